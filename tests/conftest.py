import pytest
from django.core.cache import cache
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Demo content is loaded once into the test database; each test then runs in a transaction rolled back after
    # it. (Transactional tests, which pytest-django runs last, flush it; `demo` loads it again for them.)
    with django_db_blocker.unblock():
        call_command("load_initial_data", stdout=_Null())


@pytest.fixture
def demo(db):
    """The demo site (page tree, settings, groups, workflow, six articles) inside the test's transaction.

    Loaded once per test database (django_db_setup above); loaded again only where a transactional test has
    flushed it: running the command on a complete demo changes nothing and cost every test a tenth of a second.
    """
    from acuclinic.content.models import ArticlePage

    article = ArticlePage.objects.filter(slug="acupuncture-for-back-pain-research").first()
    if article is None or not _demo_accounts_exist():
        call_command("load_initial_data", stdout=_Null())
        article = ArticlePage.objects.get(slug="acupuncture-for-back-pain-research")
    return article


def _demo_accounts_exist() -> bool:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username__startswith="demo-").count() >= 7


def verify_second_factor(client, user):
    """Mark the client's session as having passed two-step sign-in with a (test) authenticator device."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Test authenticator", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _force_login_passes_both_factors(request, monkeypatch):
    """In tests, `client.force_login(user)` stands for a complete sign-in: password and second factor.

    Tests of two-step sign-in itself opt out with `@pytest.mark.real_two_factor`.
    """
    if request.node.get_closest_marker("real_two_factor"):
        return
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        verify_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def _clear_cache():
    from acuclinic.appointments.views import forget_blank_form
    from acuclinic.core import site_lookup
    from acuclinic.scheduling.booking_views import forget_kept_steps

    def forget():
        cache.clear()
        site_lookup.forget()
        forget_blank_form()
        forget_kept_steps()

    forget()
    yield
    forget()


class _Null:
    def write(self, *_args, **_kwargs):
        pass

    def flush(self):
        pass
