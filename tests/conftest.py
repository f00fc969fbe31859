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
    """The demo site (page tree, settings, groups, workflow, six articles) inside the test's transaction."""
    call_command("load_initial_data", stdout=_Null())
    from acuclinic.content.models import ArticlePage

    return ArticlePage.objects.get(slug="acupuncture-for-back-pain-research")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


class _Null:
    def write(self, *_args, **_kwargs):
        pass

    def flush(self):
        pass
