from django.urls import path, reverse
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .admin_views import (
    ArticleFeedbackNotesView,
    ArticleFeedbackView,
    ArticlesDueForReviewView,
    LibraryReportMenuItem,
)
from .models import Citation, Source


class SourceViewSet(SnippetViewSet):
    model = Source
    icon = "site"
    list_display = ["name", "kind", "url"]
    list_filter = ["kind"]
    search_fields = ["name"]


class CitationViewSet(SnippetViewSet):
    model = Citation
    icon = "openquote"
    list_display = ["title", "authors", "year", "source", "pmid", "doi"]
    list_filter = ["source"]
    search_fields = ["title", "authors"]


class TrustedSourcesGroup(SnippetViewSetGroup):
    menu_label = "Trusted sources"
    menu_icon = "openquote"
    menu_order = 210
    items = (SourceViewSet, CitationViewSet)


register_snippet(TrustedSourcesGroup)


# --- Back-office reports: articles due for medical review, article feedback -----------------------


@hooks.register("register_admin_urls")
def register_library_report_urls():
    return [
        path(
            "reports/articles-due-for-review/",
            ArticlesDueForReviewView.as_view(),
            name="content_review_due",
        ),
        path(
            "reports/articles-due-for-review/results/",
            ArticlesDueForReviewView.as_view(results_only=True),
            name="content_review_due_results",
        ),
        path("reports/article-feedback/", ArticleFeedbackView.as_view(), name="content_article_feedback"),
        path(
            "reports/article-feedback/results/",
            ArticleFeedbackView.as_view(results_only=True),
            name="content_article_feedback_results",
        ),
        path(
            "reports/article-feedback/<int:article_id>/",
            ArticleFeedbackNotesView.as_view(),
            name="content_article_feedback_notes",
        ),
    ]


@hooks.register("register_reports_menu_item")
def register_review_due_report_menu_item():
    return LibraryReportMenuItem(
        "Articles due for medical review",
        reverse("content_review_due"),
        name="articles-due-for-review",
        icon_name="warning",
        order=100,
    )


@hooks.register("register_reports_menu_item")
def register_article_feedback_menu_item():
    return LibraryReportMenuItem(
        "Article feedback",
        reverse("content_article_feedback"),
        name="article-feedback",
        icon_name="help",
        order=110,
    )
