"""The Medical review workflow, end to end through Wagtail's own admin views."""

import json
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from wagtail.models import GroupPagePermission, TaskState, WorkflowState

from acuclinic.content.models import ArticleIndexPage, ArticlePage, MedicalReview, MedicalReviewTask
from acuclinic.content.templatetags.content_tags import review_date

from .conftest import edit_form_data, visible_text

pytestmark = pytest.mark.django_db

XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def test_demo_setup_gives_medical_reviewers_no_publish_permission(reviewer, moderator, article):
    """Reviewers publish only by approving a review in the workflow; moderators and administrators publish."""
    GroupPagePermission.objects.get_or_create(
        group=Group.objects.get(name=MedicalReviewTask.REVIEWER_GROUP),
        page=ArticleIndexPage.objects.get(),
        permission=Permission.objects.get(codename="publish_page"),
    )
    from django.core.management import call_command

    from tests.conftest import _Null

    call_command("load_initial_data", stdout=_Null())
    assert not GroupPagePermission.objects.filter(
        group__name=MedicalReviewTask.REVIEWER_GROUP, permission__codename="publish_page"
    ).exists()
    assert not article.permissions_for_user(reviewer).can_publish()
    assert article.permissions_for_user(moderator).can_publish()


def test_a_reviewer_cannot_publish_outside_the_workflow(client, reviewer, article):
    client.force_login(reviewer)
    html = client.get(edit_url(article)).content.decode()
    assert 'name="action-publish"' not in html
    client.post(
        edit_url(article),
        edit_form_data(
            article, title="Published behind the review's back", **{"action-publish": "action-publish"}
        ),
    )
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.title != "Published behind the review's back"
    assert not MedicalReview.objects.filter(article=article).exists()


def test_a_reviewer_cannot_approve_their_own_submission(
    client, reviewer, second_reviewer, reviewer_person, article
):
    state = submit_for_review(client, reviewer, article, standfirst="Checked by myself, for myself.")
    # The submitter sees no approve action and is refused when they try anyway.
    client.force_login(reviewer)
    html = client.get(edit_url(article)).content.decode()
    assert "Approve medical review" not in html
    assert_refused(client.post(action_url(article, state), {"next_review_due": "2030-01-01"}, **XHR))
    assert_refused(client.post(collect_url(article, state), {"next_review_due": "2030-01-01"}, **XHR))
    state.refresh_from_db()
    assert state.status == TaskState.STATUS_IN_PROGRESS
    assert not MedicalReview.objects.filter(article=article).exists()
    assert not MedicalReviewTask.objects.get().get_task_states_user_can_moderate(reviewer).exists()
    # Another reviewer approves it, and the approval publishes it (without "publish" on the page tree).
    client.force_login(second_reviewer)
    assert "Approve medical review" in client.get(edit_url(article)).content.decode()
    chosen = timezone.localdate() + relativedelta(months=12)
    response = client.post(action_url(article, state), {"next_review_due": f"{chosen:%Y-%m-%d}"}, **XHR)
    assert response.status_code == 200 and response.json()["step"] == "success"
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.live and article.standfirst == "Checked by myself, for myself."
    assert MedicalReview.objects.get(article=article).approved_by == second_reviewer


def edit_url(page):
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


def action_url(page, task_state, action="approve"):
    return reverse("wagtailadmin_pages:workflow_action", args=[page.pk, action, task_state.pk])


def collect_url(page, task_state, action="approve"):
    return reverse("wagtailadmin_pages:collect_workflow_action_data", args=[page.pk, action, task_state.pk])


def assert_refused(response):
    """Wagtail answers PermissionDenied with 403, or for a plain page request a redirect to the dashboard."""
    assert response.status_code in (302, 403), response.status_code
    if response.status_code == 302:
        assert response.url == reverse("wagtailadmin_home")


def submit_for_review(client, editor, article, **changes) -> TaskState:
    """The editor changes the article and presses “Submit to Medical review” in the page editor."""
    client.force_login(editor)
    response = client.post(
        edit_url(article), edit_form_data(article, **changes, **{"action-submit": "Submit"})
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    article.refresh_from_db()
    state = article.current_workflow_task_state
    assert state is not None and state.status == TaskState.STATUS_IN_PROGRESS
    assert state.task.specific.__class__.__name__ == "MedicalReviewTask"
    return state


def test_editor_submits_and_only_a_medical_reviewer_can_approve(
    client, editor, superuser, reviewer, reviewer_person, article
):
    state = submit_for_review(
        client, editor, article, standfirst="What heat does, and does not do, for a sore back."
    )
    assert article.has_unpublished_changes  # the edit waits for the review
    assert not MedicalReview.objects.filter(article=article).exists()

    # Neither the editor nor an administrator without a reviewer profile sees or can use the approve action.
    for user in (editor, superuser):
        client.force_login(user)
        html = client.get(edit_url(article)).content.decode()
        assert "Approve medical review" not in html
        assert collect_url(article, state) not in html and action_url(article, state) not in html
        assert_refused(client.get(action_url(article, state)))
        assert_refused(
            client.post(action_url(article, state), {"next_review_due": "2030-01-01", "comment": "ok"})
        )
        assert_refused(client.post(action_url(article, state), {"next_review_due": "2030-01-01"}, **XHR))
        assert_refused(client.post(collect_url(article, state), {"next_review_due": "2030-01-01"}, **XHR))
    state.refresh_from_db()
    assert state.status == TaskState.STATUS_IN_PROGRESS
    assert not MedicalReview.objects.filter(article=article).exists()
    assert ArticlePage.objects.get(pk=article.pk).standfirst == "What heat does for a sore back."

    # The reviewer sees the action; the form proposes a next review 12 months ahead.
    client.force_login(reviewer)
    html = client.get(edit_url(article)).content.decode()
    assert "Approve medical review" in html
    modal = client.get(action_url(article, state), **XHR)
    assert modal.status_code == 200
    today = timezone.localdate()
    assert f'value="{today + relativedelta(months=12):%Y-%m-%d}"' in modal.json()["html"]

    # A date that is not in the future is refused, with a message, and nothing is recorded.
    for bad in (today, today - timedelta(days=1)):
        response = client.post(action_url(article, state), {"next_review_due": f"{bad:%Y-%m-%d}"}, **XHR)
        assert response.status_code == 200
        payload = response.json()
        assert payload["step"] == "action"
        assert "The next review must be after today." in payload["html"]
    state.refresh_from_db()
    assert state.status == TaskState.STATUS_IN_PROGRESS
    assert not MedicalReview.objects.filter(article=article).exists()

    # The reviewer approves with an edited date.
    chosen = today + relativedelta(months=6)
    response = client.post(
        action_url(article, state),
        {"next_review_due": f"{chosen:%Y-%m-%d}", "comment": "Checked the evidence."},
        **XHR,
    )
    assert response.status_code == 200 and response.json()["step"] == "success"

    review = MedicalReview.objects.get(article=article)
    assert review.reviewer == reviewer_person
    assert review.approved_by == reviewer
    assert review.reviewed_on == today
    assert review.next_review_due == chosen
    assert review.comment == "Checked the evidence."
    assert review.task_state_id == state.pk
    state.refresh_from_db()
    assert state.status == TaskState.STATUS_APPROVED
    assert state.workflow_state.status == WorkflowState.STATUS_APPROVED

    article = ArticlePage.objects.get(pk=article.pk)
    assert article.live and not article.has_unpublished_changes
    assert article.standfirst == "What heat does, and does not do, for a sore back."

    client.logout()
    html = client.get(article.url).content.decode()
    assert (
        "Medically reviewed by Alex Placeholder, D.Ac., M.S., L.Ac., Dipl. Ac. — "
        f"Last reviewed {review_date(today)}" in visible_text(html)
    )
    assert today.strftime("%B") in html and str(today.year) in html


def test_approval_form_defaults_to_twelve_months_ahead(client, editor, reviewer, article):
    state = submit_for_review(client, editor, article)
    client.force_login(reviewer)
    response = client.get(collect_url(article, state), **XHR)
    expected = timezone.localdate() + relativedelta(months=12)
    assert f'name="next_review_due" value="{expected:%Y-%m-%d}"' in response.json()["html"]


def test_approve_without_a_date_uses_the_default(client, editor, reviewer, article):
    state = submit_for_review(client, editor, article)
    client.force_login(reviewer)
    response = client.post(action_url(article, state), {"next_review_due": ""}, **XHR)
    # The date is required: an empty one is refused like a past one.
    assert response.json()["step"] == "action"
    assert not MedicalReview.objects.filter(article=article).exists()


def test_reviewer_can_edit_and_approve_from_the_page_editor(
    client, editor, reviewer, reviewer_person, article
):
    """“Approve medical review” in the editor's action menu: the modal collects, the edit form posts it."""
    state = submit_for_review(client, editor, article)
    client.force_login(reviewer)
    chosen = timezone.localdate() + relativedelta(months=9)
    collected = client.post(
        collect_url(article, state), {"next_review_due": f"{chosen:%Y-%m-%d}"}, **XHR
    ).json()
    assert collected["step"] == "success"
    response = client.post(
        edit_url(article),
        edit_form_data(
            article,
            title="Heat packs for back pain: what helps",
            **{
                "action-workflow-action": "true",
                "workflow-action-name": "approve",
                "workflow-action-extra-data": json.dumps(collected["cleaned_data"]),
            },
        ),
    )
    assert response.status_code == 302
    review = MedicalReview.objects.get(article=article)
    review.refresh_from_db()
    assert (review.reviewer, review.reviewed_on, review.next_review_due) == (
        reviewer_person,
        timezone.localdate(),
        chosen,
    )
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.live and article.title == "Heat packs for back pain: what helps"
    assert not article.has_unpublished_changes


def test_a_past_date_posted_through_the_page_editor_records_nothing(client, editor, reviewer, article):
    """The editor's form carries the modal's data as JSON; a hand-made past date must not become a review."""
    state = submit_for_review(client, editor, article)
    client.force_login(reviewer)
    yesterday = timezone.localdate() - timedelta(days=1)
    client.raise_request_exception = False
    response = client.post(
        edit_url(article),
        edit_form_data(
            article,
            **{
                "action-workflow-action": "true",
                "workflow-action-name": "approve",
                "workflow-action-extra-data": json.dumps(
                    {"next_review_due": f"{yesterday:%Y-%m-%d}", "comment": ""}
                ),
            },
        ),
    )
    assert response.status_code == 400  # BadRequest: the date is not after today
    assert not MedicalReview.objects.filter(article=article).exists()
    state.refresh_from_db()
    assert state.status == TaskState.STATUS_IN_PROGRESS


def test_a_reviewer_in_the_group_without_a_reviewer_page_cannot_approve(client, editor, article, demo):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    outsider = get_user_model().objects.create_user(username="no-profile", password="not-used-x1")
    outsider.groups.add(Group.objects.get(name="Medical reviewers"))
    state = submit_for_review(client, editor, article)
    client.force_login(outsider)
    assert_refused(client.post(action_url(article, state), {"next_review_due": "2031-01-01"}))
    assert not MedicalReview.objects.filter(article=article).exists()


def test_a_stale_approval_of_a_cancelled_task_records_no_review(client, editor, reviewer, article):
    """The reviewer's modal was opened before the editor withdrew and resubmitted the article."""
    old_state = submit_for_review(client, editor, article)
    old_state.workflow_state.cancel(user=editor)
    new_state = submit_for_review(client, editor, article, standfirst="Resubmitted after a fix.")
    assert new_state.pk != old_state.pk

    client.force_login(reviewer)
    client.raise_request_exception = False
    chosen = timezone.localdate() + relativedelta(months=12)
    response = client.post(action_url(article, old_state), {"next_review_due": f"{chosen:%Y-%m-%d}"})
    assert_refused(response)
    assert not MedicalReview.objects.filter(article=article).exists()
    old_state.refresh_from_db()
    new_state.refresh_from_db()
    assert old_state.status == TaskState.STATUS_CANCELLED
    assert new_state.status == TaskState.STATUS_IN_PROGRESS
    assert not ArticlePage.objects.get(pk=article.pk).standfirst.startswith("Resubmitted")


def test_reject_sends_it_back_without_a_review(client, editor, reviewer, article):
    state = submit_for_review(client, editor, article)
    client.force_login(reviewer)
    response = client.post(action_url(article, state, "reject"), {"comment": "Cite the trial."}, **XHR)
    assert response.json()["step"] == "success"
    state.refresh_from_db()
    assert state.status == TaskState.STATUS_REJECTED
    assert not MedicalReview.objects.filter(article=article).exists()


def test_plain_edit_and_publish_keeps_the_review_date(client, moderator, superuser, make_article):
    reviewed_on = date(2026, 1, 5)
    article = make_article(title="Stretching for back pain", reviewed_on=reviewed_on)
    review = MedicalReview.objects.get(article=article)

    # A moderator publishes an edit directly (publishing bypasses the workflow).
    client.force_login(moderator)
    response = client.post(
        edit_url(article),
        edit_form_data(article, standfirst="A typo fixed.", **{"action-publish": "Publish"}),
    )
    assert response.status_code == 302
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.standfirst == "A typo fixed." and article.live
    assert list(MedicalReview.objects.filter(article=article)) == [review]
    assert MedicalReview.objects.get(pk=review.pk).reviewed_on == reviewed_on

    html = visible_text(client.get(article.url).content.decode())
    assert f"Last reviewed {review_date(reviewed_on)}" in html


def test_superuser_publish_cancels_the_workflow_and_keeps_the_review_date(
    client, editor, superuser, make_article
):
    reviewed_on = date(2026, 2, 9)
    article = make_article(title="Walking for back pain", reviewed_on=reviewed_on)
    state = submit_for_review(client, editor, article, standfirst="Walk a little every day.")

    client.force_login(superuser)
    response = client.post(
        edit_url(article),
        edit_form_data(article, standfirst="Walk a little every day.", **{"action-publish": "Publish"}),
    )
    assert response.status_code == 302, (
        response.context["form"].errors,
        response.context.get("locked_for_user"),
        [str(m) for m in response.context["messages"]],
    )
    state.refresh_from_db()
    assert state.status == TaskState.STATUS_CANCELLED
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.live and article.standfirst == "Walk a little every day."
    assert MedicalReview.objects.filter(article=article).count() == 1
    assert MedicalReview.objects.get(article=article).reviewed_on == reviewed_on
    assert f"Last reviewed {review_date(reviewed_on)}" in visible_text(
        client.get(article.url).content.decode()
    )


def test_an_approval_that_cannot_publish_leaves_no_review(client, editor, reviewer, article, monkeypatch):
    """Recording the review and approving the task are one transaction: if publishing fails, neither stays."""
    from django.core.exceptions import PermissionDenied
    from wagtail.models import Revision

    state = submit_for_review(client, editor, article)

    def refuse(*args, **kwargs):
        raise PermissionDenied("publishing refused")

    monkeypatch.setattr(Revision, "publish", refuse)
    client.force_login(reviewer)
    client.raise_request_exception = False
    chosen = timezone.localdate() + relativedelta(months=12)
    response = client.post(action_url(article, state), {"next_review_due": f"{chosen:%Y-%m-%d}"}, **XHR)
    assert response.status_code == 403
    assert not MedicalReview.objects.filter(article=article).exists()
    state.refresh_from_db()
    assert state.status == TaskState.STATUS_IN_PROGRESS
