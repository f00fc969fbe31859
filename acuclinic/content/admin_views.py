"""Back-office reports: articles due for medical review, and readers' “Was this helpful?” feedback."""

import datetime

from django.conf import settings
from django.db.models import Count, F, Q
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin.menu import MenuItem
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.tables import Column, NumberColumn, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.models import Page
from wagtail.permission_policies.pages import PagePermissionPolicy

from acuclinic.core import timefmt

from .models import ArticlePage, HelpfulVote
from .selectors import articles_due_for_review
from .templatetags.content_tags import review_date

# Editors (add/change), moderators (publish), medical reviewers (change on the articles) and administrators.
STAFF_PAGE_PERMISSIONS = ["add", "change", "publish"]


def page_permission_policy():
    return PagePermissionPolicy(Page)


def user_may_see_library_reports(user) -> bool:
    return page_permission_policy().user_has_any_permission(user, STAFF_PAGE_PERMISSIONS)


class LibraryReportMenuItem(MenuItem):
    def is_shown(self, request):
        return user_may_see_library_reports(request.user)


def paginator_for(singular: str, plural: str) -> type[WagtailPaginator]:
    """A paginator whose count reads “3 articles”, not “3 article pages”."""
    attrs = {"verbose_name": singular, "verbose_name_plural": plural}
    return type(f"{plural.title()}Paginator", (WagtailPaginator,), attrs)


class LibraryReportView(ReportView):
    any_permission_required = STAFF_PAGE_PERMISSIONS
    paginator_class = paginator_for("article", "articles")

    @cached_property
    def permission_policy(self):
        return page_permission_policy()


# --- Articles due for medical review --------------------------------------------------------------


def review_status(article, today: datetime.date) -> tuple[str, str]:
    """(label, tone) for an article's review: “Never reviewed”, “Overdue”, “Due today” or “Due in N days”."""
    due = article.next_review_due
    if due is None:
        return "Never reviewed", "never"
    days = (due - today).days
    if days < 0:
        return "Overdue", "overdue"
    if days == 0:
        return "Due today", "due"
    return f"Due in {days} day{'' if days == 1 else 's'}", "due"


def _reviewer(article) -> str:
    if not article.reviewer_name:
        return ""
    return (
        f"{article.reviewer_name}, {article.reviewer_credentials}"
        if article.reviewer_credentials
        else article.reviewer_name
    )


class ReviewStatusColumn(Column):
    cell_template_name = "content/admin/review_status_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["tone"] = instance.review_tone
        return context


class ArticlesDueForReviewView(LibraryReportView):
    page_title = "Articles due for medical review"
    header_icon = "warning"
    index_url_name = "content_review_due"
    index_results_url_name = "content_review_due_results"
    results_template_name = "content/admin/review_due_results.html"
    paginate_by = 50
    columns = [
        TitleColumn("title", label="Article", url_name="wagtailadmin_pages:edit"),
        Column("last_reviewed_display", label="Last reviewed"),
        Column("reviewer_display", label="Reviewer"),
        Column("next_review_due_display", label="Next review due"),
        ReviewStatusColumn("review_status", label="Status"),
    ]
    list_export = [
        "title",
        "last_reviewed",
        "reviewer_display",
        "next_review_due",
        "review_status",
        "edit_url",
    ]
    export_headings = {
        "title": "Article",
        "last_reviewed": "Last reviewed",
        "reviewer_display": "Reviewer",
        "next_review_due": "Next review due",
        "review_status": "Status",
        "edit_url": "Edit link",
    }

    @cached_property
    def today(self) -> datetime.date:
        return timezone.localdate()

    @property
    def within_days(self) -> int:
        return settings.ACUCLINIC_REVIEW_DUE_SOON_DAYS

    def get_filename(self):
        return f"articles-due-for-medical-review-{self.today:%Y-%m-%d}"

    def get_queryset(self):
        # Never reviewed first, then the most overdue; the same order on SQLite and PostgreSQL.
        return articles_due_for_review(today=self.today).order_by(
            F("next_review_due").asc(nulls_first=True), "title", "pk"
        )

    def decorate_paginated_queryset(self, object_list):
        base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        articles = list(object_list)
        for article in articles:
            article.review_status, article.review_tone = review_status(article, self.today)
            article.reviewer_display = _reviewer(article)
            article.last_reviewed_display = review_date(article.last_reviewed) or "—"
            article.next_review_due_display = review_date(article.next_review_due) or "—"
            article.edit_url = base + reverse("wagtailadmin_pages:edit", args=[article.pk])
        return articles

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["within_days"] = self.within_days
        context["today"] = self.today
        return context


# --- Article feedback -----------------------------------------------------------------------------


class NotesColumn(Column):
    """“2 notes”, linked to the notes; “No notes” as plain text."""

    cell_template_name = "content/admin/notes_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        if instance.note_count:
            context["url"] = reverse("content_article_feedback_notes", args=[instance.pk])
        return context


class ArticleFeedbackView(LibraryReportView):
    """Per article: how many readers answered Yes and No to “Was this helpful?”, and how many left a note."""

    page_title = "Article feedback"
    header_icon = "help"
    index_url_name = "content_article_feedback"
    index_results_url_name = "content_article_feedback_results"
    results_template_name = "content/admin/article_feedback_results.html"
    default_ordering = "-no_count"
    columns = [
        TitleColumn("title", label="Article", url_name="wagtailadmin_pages:edit", sort_key="title"),
        NumberColumn("yes_count", label="Yes", sort_key="yes_count"),
        NumberColumn("no_count", label="No", sort_key="no_count"),
        NotesColumn("notes_label", label="What was missing?", sort_key="note_count"),
    ]
    list_export = ["title", "yes_count", "no_count", "note_count"]
    export_headings = {"title": "Article", "yes_count": "Yes", "no_count": "No", "note_count": "Notes"}

    def get_filename(self):
        return f"article-feedback-{timezone.localdate():%Y-%m-%d}"

    def get_base_queryset(self):
        return ArticlePage.objects.annotate(
            yes_count=Count("helpful_votes", filter=Q(helpful_votes__helpful=True)),
            no_count=Count("helpful_votes", filter=Q(helpful_votes__helpful=False)),
            note_count=Count("helpful_votes", filter=~Q(helpful_votes__missing="")),
        )

    def order_queryset(self, queryset):
        # A stable order: ties broken by title.
        return queryset.order_by(self.ordering or self.default_ordering, "title", "pk")

    def decorate_paginated_queryset(self, object_list):
        articles = list(object_list)
        for article in articles:
            count = article.note_count
            article.notes_label = f"{count} note{'' if count == 1 else 's'}" if count else "No notes"
        return articles


class ArticleFeedbackNotesView(LibraryReportView):
    """The “What was missing?” notes readers left on one article, newest first."""

    header_icon = "comment"
    index_results_url_name = None
    paginator_class = paginator_for("note", "notes")
    results_template_name = "content/admin/feedback_notes_results.html"
    paginate_by = 50
    columns = [
        Column("created_display", label="Received"),
        Column("answer", label="Helpful?"),
        Column("missing", label="What was missing?", classname="feedback-note"),
    ]
    list_export = ["created_at", "answer", "missing"]
    export_headings = {"created_at": "Received", "answer": "Helpful?", "missing": "What was missing?"}

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.article = get_object_or_404(ArticlePage, pk=kwargs["article_id"])

    page_title = "Reader notes"

    def get_page_subtitle(self):
        return self.article.title

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("content_article_feedback"), "label": "Article feedback"},
            {"url": "", "label": self.article.title},
        ]

    def get_index_url(self):
        return reverse("content_article_feedback_notes", args=[self.article.pk])

    def get_filename(self):
        return f"article-feedback-{self.article.slug}-{timezone.localdate():%Y-%m-%d}"

    def get_base_queryset(self):
        return (
            HelpfulVote.objects.filter(article=self.article)
            .exclude(missing="")
            .order_by("-created_at", "-pk")
        )

    def decorate_paginated_queryset(self, object_list):
        votes = list(object_list)
        for vote in votes:
            vote.answer = "Yes" if vote.helpful else "No"
            local = timezone.localtime(vote.created_at)
            vote.created_display = f"{review_date(local.date())}, {timefmt.clock(local)}"
        return votes

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["article"] = self.article
        context["counts"] = HelpfulVote.objects.filter(article=self.article).aggregate(
            yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
        )
        return context
