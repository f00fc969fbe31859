"""The page cache for anonymous visitors (acuclinic/core/page_cache.py): what it serves, when it forgets."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.middleware.csrf import get_token
from django.test import Client
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from freezegun import freeze_time
from wagtail import hooks
from wagtail.models import PageViewRestriction, Site

from acuclinic.content.models import ArticlePage, MedicalReview, PersonPage
from acuclinic.core import page_cache
from acuclinic.core.models import ClinicSettings, ServiceAlert

pytestmark = pytest.mark.django_db

HEADER = "X-Page-Cache"


def cache_state(response) -> str | None:
    return response.headers.get(HEADER)


def get(client, url, **extra):
    response = client.get(url, **extra)
    return response, response.content.decode()


@pytest.fixture(autouse=True)
def _own_generation(settings, tmp_path):
    """A generation file of the test's own: other test runs or servers sharing var/ bump the shared one."""
    settings.PAGE_CACHE_GENERATION_FILE = tmp_path / "page-cache-generation"
    settings.PAGE_CACHE_ENABLED = True  # whatever PAGE_CACHE says in the environment
    settings.PAGE_CACHE_MAX_AGE = 60


@pytest.fixture
def url(demo):
    return demo.url


@pytest.fixture
def warm(client, url):
    """The article page, requested once so that the next anonymous request can be a hit."""
    response = client.get(url)
    assert response.status_code == 200
    assert cache_state(response) == "miss"
    return response


def test_second_anonymous_request_is_a_hit_with_the_same_page(client, url, warm):
    response = client.get(url)
    assert cache_state(response) == "hit"
    assert response.status_code == 200
    assert response.content == warm.content
    assert response["Content-Type"] == warm["Content-Type"]
    assert "Cookie" in response["Vary"]  # like the miss: the entry is only for requests without a session


def test_head_is_served_from_the_entry_of_get(client, url, warm):
    response = client.head(url)
    assert cache_state(response) == "hit"
    assert response.status_code == 200


def test_logged_in_staff_never_get_or_fill_the_cache(client, url, warm):
    staff = Client()
    staff.force_login(
        get_user_model().objects.create_superuser("cache-admin", "a@example.com", "x-not-used-123")
    )
    for _ in range(2):
        response, html = get(staff, url)
        assert cache_state(response) is None
        assert "wagtail-userbar" in html  # the user bar is there, so the page was rendered for this user
    # A page a staff member rendered is never stored for anonymous visitors either.
    response, html = get(staff, url + "?from=staff")
    assert "wagtail-userbar" in html
    response, html = get(client, url + "?from=staff")
    assert cache_state(response) == "miss"
    assert "wagtail-userbar" not in html


def test_any_session_cookie_bypasses_the_cache(client, url, warm):
    client.cookies["sessionid"] = "not-a-real-session"
    assert cache_state(client.get(url)) is None


def test_publishing_a_new_revision_shows_the_new_title_at_once(client, demo, url, warm):
    demo.title = "Acupuncture for back pain: the 2026 update"
    demo.save_revision().publish()
    response, html = get(client, url)
    assert cache_state(response) == "miss"
    assert "Acupuncture for back pain: the 2026 update" in html


def test_unpublishing_and_deleting_a_page_take_it_away_at_once(client, demo, url, warm):
    demo.unpublish()
    assert client.get(url).status_code == 404
    demo.save_revision().publish()
    assert client.get(url).status_code == 200
    assert cache_state(client.get(url)) == "hit"
    ArticlePage.objects.get(pk=demo.pk).delete()
    assert client.get(url).status_code == 404


def test_changing_another_page_invalidates_too(client, demo, url, warm):
    # The article shows its reviewer's name and credentials, which live on the reviewer's page.
    reviewer = MedicalReview.objects.filter(article=demo).first().reviewer
    reviewer.credentials = "L.Ac., Ph.D. (updated)"
    reviewer.save_revision().publish()
    response, html = get(client, url)
    assert cache_state(response) == "miss"
    assert "L.Ac., Ph.D. (updated)" in html


def test_a_new_active_service_alert_shows_on_the_next_request_of_a_cached_page(client, url, warm):
    assert cache_state(client.get(url)) == "hit"
    ServiceAlert.objects.create(message="Our phones are down.", severity="critical")
    response, html = get(client, url)
    assert "Our phones are down." in html
    assert cache_state(response) == "miss"
    assert cache_state(client.get(url)) == "hit"


def test_an_alert_disappears_when_it_ends_even_from_a_cached_page(client, url):
    ends = timezone.now() + timedelta(seconds=30)
    ServiceAlert.objects.create(
        message="Brief outage", starts_at=timezone.now() - timedelta(minutes=1), ends_at=ends
    )
    assert "Brief outage" in client.get(url).content.decode()
    response, html = get(client, url)
    assert cache_state(response) == "hit"
    assert "Brief outage" in html
    with freeze_time(ends + timedelta(seconds=1)):
        response, html = get(client, url)
        assert "Brief outage" not in html
        assert cache_state(response) == "miss"


def test_a_scheduled_alert_appears_when_it_starts_even_on_a_cached_page(client, url):
    starts = timezone.now() + timedelta(seconds=30)
    ServiceAlert.objects.create(message="Closed for the holiday", starts_at=starts)
    client.get(url)
    response, html = get(client, url)
    assert cache_state(response) == "hit"
    assert "Closed for the holiday" not in html
    with freeze_time(starts + timedelta(seconds=1)):
        assert "Closed for the holiday" in client.get(url).content.decode()


def test_no_entry_outlives_the_max_age(client, url, settings):
    settings.PAGE_CACHE_MAX_AGE = 5
    assert cache_state(client.get(url)) == "miss"
    assert cache_state(client.get(url)) == "hit"
    with freeze_time(timezone.now() + timedelta(seconds=6)):
        assert cache_state(client.get(url)) == "miss"


def test_an_invalidation_by_another_worker_is_seen_here_alerts_included(client, url, warm):
    # Another gunicorn worker saves an alert: its signal handlers run there, not here. Simulate it with a row
    # written without signals, and the generation that worker would have replaced.
    assert cache_state(client.get(url)) == "hit"
    ServiceAlert.objects.bulk_create([ServiceAlert(message="Saved by the other worker")])
    assert "Saved by the other worker" not in client.get(url).content.decode()  # still the cached page
    store = page_cache.generation_store()
    assert isinstance(store, page_cache.FileGeneration)  # LocMem default cache: the generation is a file
    store.path.write_text("set-by-another-worker")
    response, html = get(client, url)
    assert cache_state(response) == "miss"
    assert "Saved by the other worker" in html  # this worker's own alert cache was dropped too


def test_changing_clinic_settings_invalidates(client, url, warm):
    clinic = ClinicSettings.for_site(Site.objects.get(is_default_site=True))
    clinic.practice_name = "Riverside Acupuncture"
    clinic.save()
    assert "Riverside Acupuncture" in client.get(url).content.decode()


def test_a_new_medical_review_invalidates(client, demo, url, warm):
    reviewer = PersonPage.objects.filter(is_reviewer=True).last()
    MedicalReview.objects.create(
        article=demo, reviewer=reviewer, reviewed_on=date(2026, 11, 20), next_review_due=date(2027, 11, 20)
    )
    assert 'Last reviewed <time datetime="2026-11-20">' in client.get(url).content.decode()


def test_the_generation_is_replaced_again_when_the_transaction_commits(django_capture_on_commit_callbacks):
    store = page_cache.generation_store()
    before = store.get()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ServiceAlert.objects.create(message="Phones down")
        during = store.get()
    assert during != before
    assert callbacks
    assert store.get() != during


def _sets_a_cookie(serve):
    def inner(page, request, args, kwargs):
        response = serve(page, request, args, kwargs)
        response.set_cookie("flavour", "oatmeal")
        return response

    return inner


def _varies_on_cookie(serve):
    def inner(page, request, args, kwargs):
        response = serve(page, request, args, kwargs)
        patch_vary_headers(response, ("Cookie",))
        return response

    return inner


def _uses_a_csrf_token(serve):
    def inner(page, request, args, kwargs):
        get_token(request)
        return serve(page, request, args, kwargs)

    return inner


def _private(serve):
    def inner(page, request, args, kwargs):
        response = serve(page, request, args, kwargs)
        response["Cache-Control"] = "private"
        return response

    return inner


@pytest.mark.parametrize("wrapper", [_sets_a_cookie, _varies_on_cookie, _uses_a_csrf_token, _private])
def test_a_page_that_sets_a_cookie_or_varies_on_it_is_not_cached(client, url, wrapper):
    with hooks.register_temporarily("on_serve_page", wrapper):
        first = client.get(url)
        second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert cache_state(first) is None
    assert cache_state(second) is None


def test_the_feedback_thanks_page_is_cached_apart_from_the_plain_url(client, url, warm):
    response, html = get(client, url + "?feedback=thanks")
    assert cache_state(response) == "miss"
    assert "Thank you for your feedback." in html
    assert "data-helpful-form" not in html
    response, html = get(client, url)
    assert cache_state(response) == "hit"
    assert "data-helpful-form" in html
    assert "Thank you for your feedback." not in html
    response, html = get(client, url + "?feedback=thanks")
    assert cache_state(response) == "hit"
    assert "Thank you for your feedback." in html


def test_the_helpful_vote_post_is_not_cached_and_its_redirect_target_is_right(client, demo, url, warm):
    vote = client.post(f"/articles/{demo.pk}/helpful/", {"helpful": "yes"})
    assert vote.status_code == 302
    assert cache_state(vote) is None
    assert vote["Location"].endswith("?feedback=thanks#helpful")
    assert "Thank you for your feedback." in client.get(url + "?feedback=thanks").content.decode()


def test_a_post_to_a_page_is_never_stored(client, url):
    client.post(url, {})
    assert cache_state(client.get(url)) == "miss"


def test_host_is_part_of_the_key(client, url, warm):
    assert cache_state(client.get(url, HTTP_HOST="localhost")) == "miss"
    assert cache_state(client.get(url)) == "hit"


def test_search_health_and_admin_are_never_cached(client, demo):
    for path in ["/search/?q=back", "/health/", "/admin/login/"]:
        client.get(path)
        assert cache_state(client.get(path)) is None, path


def test_a_page_under_a_view_restriction_is_not_cached(client, demo, url, warm):
    PageViewRestriction.objects.create(
        page=demo, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )
    for _ in range(2):
        response, html = get(client, url)
        assert cache_state(response) is None
        assert demo.standfirst not in html


def test_the_switch_turns_it_off(client, url, settings):
    settings.PAGE_CACHE_ENABLED = False
    client.get(url)
    assert cache_state(client.get(url)) is None


def test_an_unwritable_generation_serves_pages_uncached(client, url, tmp_path, settings):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.PAGE_CACHE_GENERATION_FILE = blocker / "generation"
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        assert cache_state(response) is None
