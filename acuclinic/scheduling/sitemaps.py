from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Practitioner


class PractitionerSitemap(Sitemap):
    """The practitioners' list and every active practitioner's profile (they sit outside Wagtail's page tree)."""

    changefreq = "monthly"

    def items(self):
        return [None, *Practitioner.objects.filter(is_active=True).exclude(slug="").order_by("name", "pk")]

    def location(self, item):
        if item is None:
            return reverse("practitioner_list")
        return reverse("practitioner_profile", kwargs={"slug": item.slug})
