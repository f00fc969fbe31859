from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve
from oauth2_provider import views as oauth2_views
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps import Sitemap as WagtailSitemap
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from acuclinic.api.api import api
from acuclinic.content import views as content_views
from acuclinic.core import views as core_views
from acuclinic.scheduling import feed_views as calendar_feed_views
from acuclinic.scheduling.sitemaps import PractitionerSitemap

urlpatterns = [
    path("health/", core_views.health, name="health"),
    path("robots.txt", core_views.robots_txt, name="robots_txt"),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": {"wagtail": WagtailSitemap, "practitioners": PractitionerSitemap}},
        name="sitemap",
    ),
    path("search/", content_views.search, name="search"),
    path("request-appointment/", include("acuclinic.appointments.urls")),
    path("practitioners/", include("acuclinic.scheduling.urls")),
    path("book/", include("acuclinic.scheduling.booking_urls")),
    path("waitlist/", include("acuclinic.scheduling.waitlist_urls")),
    path("intake/", include("acuclinic.clinical.intake.urls")),
    path("api/", api.urls),
    # API clients get a token here (client credentials) and may revoke it: acuclinic/api/clients.py.
    path("oauth/token/", oauth2_views.TokenView.as_view(), name="oauth_token"),
    path("oauth/revoke/", oauth2_views.RevokeTokenView.as_view(), name="oauth_revoke"),
    path("articles/<int:article_id>/helpful/", content_views.helpful_vote, name="helpful_vote"),
    path("account/", include("acuclinic.accounts.urls")),
    # A practitioner's private calendar feed: the token in the address is the key (scheduling/feed.py).
    path("calendar/<str:token>.ics", calendar_feed_views.calendar_feed, name="scheduling_calendar_feed"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.SERVE_MEDIA:
    # static() serves nothing when DEBUG is off, so route uploads explicitly (SERVE_MEDIA documents the choice).
    urlpatterns.append(
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}, name="media")
    )

if getattr(settings, "BENCHMARK_MINIMAL_VIEW", False):
    urlpatterns.append(path("bench/minimal/", core_views.minimal))

urlpatterns.append(path("", include(wagtail_urls)))
