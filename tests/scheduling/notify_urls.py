"""The site's URLs plus a stand-in `booking_manage` route, for as long as the real page has not landed in this branch.

Used only by tests/scheduling/notify_helpers.manage_page when `reverse("booking_manage")` fails.
"""

from django.http import HttpResponse
from django.urls import path

from acuclinic.urls import urlpatterns as site_urlpatterns


def _stand_in(request, token):
    return HttpResponse("manage booking")


urlpatterns = [path("booking/manage/<str:token>/", _stand_in, name="booking_manage"), *site_urlpatterns]
