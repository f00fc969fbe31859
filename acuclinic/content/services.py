"""Writes for the library."""

import hashlib
import hmac
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ArticlePage, HelpfulVote, MedicalReview, default_next_review

logger = logging.getLogger(__name__)


class NotAMedicalReviewer(Exception):
    pass


@transaction.atomic
def record_medical_review(*, task_state, user, next_review_due=None, comment: str = "") -> MedicalReview:
    """Record an approval of the Medical review task: the approving reviewer, today's date, the next review due."""
    profile = getattr(user, "person_profile", None)
    if profile is None or not profile.is_reviewer:
        raise NotAMedicalReviewer(f"user {user.pk} has no medical reviewer profile")
    article = task_state.revision.content_object.specific
    if not isinstance(article, ArticlePage):
        raise TypeError("The medical review task applies to articles only.")
    today = timezone.localdate()
    review = MedicalReview.objects.create(
        article=article,
        reviewer=profile,
        reviewed_on=today,
        next_review_due=next_review_due or default_next_review(today),
        approved_by=user,
        task_state=task_state,
        comment=comment,
    )
    logger.info("medical review recorded", extra={"article_id": article.pk, "review_id": review.pk})
    return review


def voter_key(raw_cookie_value: str) -> str:
    """Store a keyed hash of the browser's cookie, not the cookie itself."""
    return hmac.new(settings.SECRET_KEY.encode(), raw_cookie_value.encode(), hashlib.sha256).hexdigest()


def record_helpful_vote(
    *, article: ArticlePage, voter_cookie: str, helpful: bool, missing: str = ""
) -> HelpfulVote:
    """One vote per browser per article: voting again changes the earlier vote instead of adding one."""
    key = voter_key(voter_cookie)
    missing = (missing or "").strip()[:1000]
    try:
        with transaction.atomic():
            vote, _created = HelpfulVote.objects.update_or_create(
                article=article, voter=key, defaults={"helpful": helpful, "missing": missing}
            )
    except IntegrityError:
        # Two submissions from one browser raced; the other one created the row, so update it.
        vote = HelpfulVote.objects.get(article=article, voter=key)
        vote.helpful, vote.missing = helpful, missing
        vote.save(update_fields=["helpful", "missing"])
    return vote
