"""The cards' cheaper query (selectors.latest_reviewed_articles) gives what the full listing query gives."""

import pytest

from acuclinic.content import selectors

pytestmark = pytest.mark.django_db

FIELDS = (
    "pk",
    "title",
    "url_path",
    "last_reviewed",
    "next_review_due",
    "reviewer_name",
    "reviewer_credentials",
)


def test_the_same_articles_in_the_same_order_with_the_same_review(db):
    from datetime import timedelta

    from acuclinic.content.models import MedicalReview

    # A second, later review of one article: the latest one counts.
    first = MedicalReview.objects.order_by("reviewed_on", "id").first()
    MedicalReview.objects.create(
        article=first.article,
        reviewer=first.reviewer,
        reviewed_on=first.reviewed_on + timedelta(days=1),
        next_review_due=first.reviewed_on + timedelta(days=200),
    )
    for limit in (2, 6, 50):
        cheap = selectors.latest_reviewed_articles(limit=limit)
        full = list(selectors.live_articles()[:limit])
        assert [[getattr(a, f) for f in FIELDS] for a in cheap] == [
            [getattr(a, f) for f in FIELDS] for a in full
        ]
        assert [a.reviewer_url_path for a in cheap] == [a.reviewer_url_path for a in full]
