"""Back-office reports: articles due for medical review, and readers' “Was this helpful?” feedback."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from acuclinic.content.models import HelpfulVote, PersonPage
from acuclinic.content.templatetags.content_tags import review_date

from .conftest import visible_text

pytestmark = pytest.mark.django_db

REPORT = "/admin/reports/articles-due-for-review/"
FEEDBACK = "/admin/reports/article-feedback/"


@pytest.fixture
def staff_without_page_rights(demo):
    """Can sign in to the back office (e.g. front-desk staff) but has no permission on pages."""
    user = get_user_model().objects.create_user(username="fd-frontdesk", password="not-used-x1")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


@pytest.fixture
def due_articles(make_article):
    today = timezone.localdate()
    jordan = PersonPage.objects.get(slug="reviewer-2")
    return {
        "overdue": make_article(
            "Overdue article",
            reviewed_on=today - timedelta(days=400),
            next_review_due=today - timedelta(days=5),
            reviewer=jordan,
        ),
        "soon": make_article(
            "Soon article",
            reviewed_on=today - timedelta(days=300),
            next_review_due=today + timedelta(days=10),
            reviewer=jordan,
        ),
        "later": make_article(
            "Later article",
            reviewed_on=today - timedelta(days=10),
            next_review_due=today + timedelta(days=200),
        ),
        "never": make_article("Never reviewed article"),
        "draft": make_article("Draft never reviewed article", live=False),
    }


def rows(html):
    """The report's table rows as lists of cell texts."""
    listing = html.split('<table class="listing', 1)[1]
    body = listing.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return [
        [visible_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


@pytest.mark.parametrize("who", ["editor", "reviewer", "superuser", "moderator"])
def test_report_is_open_to_editors_reviewers_and_admins(who, request, client, due_articles):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(REPORT)
    assert response.status_code == 200
    # The menu item under Reports.
    dashboard = client.get("/admin/").content.decode()
    assert "Articles due for medical review" in dashboard
    assert "Article feedback" in dashboard


def test_report_is_closed_to_staff_without_page_rights(client, staff_without_page_rights, due_articles):
    client.force_login(staff_without_page_rights)
    for url in (REPORT, REPORT + "?export=csv", FEEDBACK):
        response = client.get(url)
        assert response.status_code in (302, 403)
        assert b"Overdue article" not in response.content
    assert "Articles due for medical review" not in client.get("/admin/").content.decode()


def test_report_lists_never_reviewed_overdue_and_due_soon_live_articles(client, editor, due_articles):
    client.force_login(editor)
    today = timezone.localdate()
    html = client.get(REPORT).content.decode()
    by_title = {row[0]: row for row in rows(html)}

    assert "Later article" not in by_title
    assert "Draft never reviewed article" not in by_title

    assert by_title["Overdue article"][1:] == [
        review_date(today - timedelta(days=400)),
        "Jordan Demo, MD, physical medicine and rehabilitation",
        review_date(today - timedelta(days=5)),
        "Overdue",
    ]
    assert by_title["Soon article"][4] == "Due in 10 days"
    assert by_title["Never reviewed article"][1:] == ["—", "", "—", "Never reviewed"]

    titles = [row[0] for row in rows(html)]
    assert (
        titles.index("Never reviewed article")
        < titles.index("Overdue article")
        < titles.index("Soon article")
    )

    # The title links to the page editor.
    edit = reverse("wagtailadmin_pages:edit", args=[due_articles["overdue"].pk])
    assert f'href="{edit}"' in html
    # The AJAX results view answers too.
    assert "Overdue article" in client.get(REPORT + "results/").content.decode()


def test_report_uses_the_due_soon_setting(client, editor, due_articles, settings):
    settings.ACUCLINIC_REVIEW_DUE_SOON_DAYS = 5
    client.force_login(editor)
    titles = [row[0] for row in rows(client.get(REPORT).content.decode())]
    assert "Overdue article" in titles and "Soon article" not in titles


def test_report_exports_csv(client, reviewer, due_articles, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://cms.acuclinic.example"
    client.force_login(reviewer)
    response = client.get(REPORT + "?export=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content).decode()
    table = list(csv.reader(io.StringIO(content)))
    assert table[0] == ["Article", "Last reviewed", "Reviewer", "Next review due", "Status", "Edit link"]
    overdue = next(row for row in table if row[0] == "Overdue article")
    today = timezone.localdate()
    assert overdue[1:] == [
        f"{today - timedelta(days=400):%Y-%m-%d}",
        "Jordan Demo, MD, physical medicine and rehabilitation",
        f"{today - timedelta(days=5):%Y-%m-%d}",
        "Overdue",
        f"https://cms.acuclinic.example/admin/pages/{due_articles['overdue'].pk}/edit/",
    ]
    assert "Later article" not in content


# --- Article feedback -----------------------------------------------------------------------------


@pytest.fixture
def voted_article(make_article):
    article = make_article("Ice or heat for back pain")
    now = timezone.now()
    votes = [
        (True, "", 5),
        (True, "", 4),
        (True, "More on how long to use ice.", 3),
        (False, "Nothing about <b>children</b>.", 2),
        (False, "", 1),
    ]
    for number, (helpful, missing, days_ago) in enumerate(votes):
        vote = HelpfulVote.objects.create(
            article=article, voter=f"voter-{number}", helpful=helpful, missing=missing
        )
        HelpfulVote.objects.filter(pk=vote.pk).update(created_at=now - timedelta(days=days_ago))
    return article


@pytest.mark.parametrize("who", ["editor", "superuser"])
def test_feedback_report_counts_yes_and_no_per_article(who, request, client, voted_article, make_article):
    quiet = make_article("Quiet article")
    client.force_login(request.getfixturevalue(who))
    html = client.get(FEEDBACK).content.decode()
    by_title = {row[0]: row for row in rows(html)}
    assert by_title["Ice or heat for back pain"][1:] == ["3", "2", "2 notes"]
    assert by_title[quiet.title][1:] == ["0", "0", "No notes"]
    notes_url = reverse("content_article_feedback_notes", args=[voted_article.pk])
    assert f'href="{notes_url}"' in html
    # Articles with the most “No” answers come first.
    titles = [row[0] for row in rows(html)]
    assert titles[0] == "Ice or heat for back pain"
    # Sortable by the Yes column.
    assert client.get(FEEDBACK + "?ordering=-yes_count").status_code == 200


def test_feedback_notes_newest_first_and_escaped(client, editor, voted_article):
    client.force_login(editor)
    response = client.get(reverse("content_article_feedback_notes", args=[voted_article.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    notes = [row[2] for row in rows(html)]
    assert notes == ["Nothing about &lt;b&gt;children&lt;/b&gt;.", "More on how long to use ice."]
    assert [row[1] for row in rows(html)] == ["No", "Yes"]
    assert "<b>children</b>" not in html
    assert "3 readers answered Yes and 2 answered No" in visible_text(html)

    export = client.get(reverse("content_article_feedback_notes", args=[voted_article.pk]) + "?export=csv")
    table = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert table[0] == ["Received", "Helpful?", "What was missing?"]
    assert [row[2] for row in table[1:]] == ["Nothing about <b>children</b>.", "More on how long to use ice."]


def test_feedback_views_are_closed_to_staff_without_page_rights(
    client, staff_without_page_rights, voted_article
):
    client.force_login(staff_without_page_rights)
    response = client.get(reverse("content_article_feedback_notes", args=[voted_article.pk]))
    assert response.status_code in (302, 403)
    assert b"children" not in response.content


def test_feedback_notes_for_a_missing_article_is_404(client, editor):
    client.force_login(editor)
    assert client.get(reverse("content_article_feedback_notes", args=[999999])).status_code == 404
