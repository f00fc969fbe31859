"""Reads for the library. Every listing annotates the latest review in SQL, so a page of N articles is one query."""

import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from .models import ArticlePage, Citation, MedicalReview, PersonPage, TopicPage


def _latest_review(field: str):
    return Subquery(
        MedicalReview.objects.filter(article=OuterRef("pk")).order_by("-reviewed_on", "-id").values(field)[:1]
    )


def with_latest_review(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(
        last_reviewed=_latest_review("reviewed_on"),
        next_review_due=_latest_review("next_review_due"),
        reviewer_name=_latest_review("reviewer__title"),
        reviewer_credentials=_latest_review("reviewer__credentials"),
        reviewer_url_path=_latest_review("reviewer__url_path"),
    )


def live_articles() -> QuerySet:
    return with_latest_review(ArticlePage.objects.live().public()).order_by(
        "-last_reviewed", "-first_published_at", "title"
    )


def latest_reviewed_articles(*, limit: int = 6) -> list[ArticlePage]:
    """The newest reviewed articles for cards (home, library): the same rows and attributes as ``live_articles``,
    for less. Five correlated subqueries cost more to build in Python than to run, and cards need no body: two
    subqueries pick the latest review, one more query reads those reviews, and the StreamFields are not loaded."""
    articles = list(
        ArticlePage.objects.live()
        .public()
        .defer_streamfields()
        .annotate(last_reviewed=_latest_review("reviewed_on"), latest_review_id=_latest_review("id"))
        .order_by("-last_reviewed", "-first_published_at", "title")[:limit]
    )
    reviews = {
        row["id"]: row
        for row in MedicalReview.objects.filter(
            pk__in=[a.latest_review_id for a in articles if a.latest_review_id]
        ).values("id", "next_review_due", "reviewer__title", "reviewer__credentials", "reviewer__url_path")
    }
    for article in articles:
        review = reviews.get(article.latest_review_id, {})
        article.next_review_due = review.get("next_review_due")
        article.reviewer_name = review.get("reviewer__title")
        article.reviewer_credentials = review.get("reviewer__credentials")
        article.reviewer_url_path = review.get("reviewer__url_path")
    return articles


def articles_for_topic(*, topic: TopicPage) -> QuerySet:
    return live_articles().filter(topics=topic)


def articles_reviewed_by(*, person: PersonPage) -> QuerySet:
    return live_articles().filter(pk__in=MedicalReview.objects.filter(reviewer=person).values("article_id"))


def articles_written_by(*, person: PersonPage) -> QuerySet:
    return live_articles().filter(author=person)


def topics_for_home() -> QuerySet:
    return TopicPage.objects.live().public().order_by("title")


def articles_due_for_review(*, within_days: int | None = None, today=None) -> QuerySet:
    """Live articles never reviewed, past their next review date, or due within `within_days` days."""
    today = today or timezone.localdate()
    within_days = settings.ACUCLINIC_REVIEW_DUE_SOON_DAYS if within_days is None else within_days
    horizon = today + timedelta(days=within_days)
    return (
        with_latest_review(ArticlePage.objects.live())
        .filter(Q(next_review_due__isnull=True) | Q(next_review_due__lte=horizon))
        .order_by("next_review_due", "title")
    )


@dataclass(frozen=True)
class NumberedCitation:
    number: int
    citation: Citation


def ordered_citations(*, article: ArticlePage) -> list[NumberedCitation]:
    """Distinct citations in order of first use: body first, then the FAQ (two queries, whatever the count)."""
    seen: dict[int, NumberedCitation] = {}
    for stream in (article.body, article.faq):
        for block in stream:
            if block.block_type not in ("paragraph", "faq"):
                continue
            for citation in block.value["citations"]:
                if citation is not None and citation.pk not in seen:
                    seen[citation.pk] = NumberedCitation(len(seen) + 1, citation)
    return list(seen.values())


def latest_review(*, article: ArticlePage) -> MedicalReview | None:
    return MedicalReview.objects.filter(article=article).select_related("reviewer").first()


def article_page_context(*, article: ArticlePage) -> dict:
    review = latest_review(article=article)
    citations = ordered_citations(article=article)
    topics = list(article.topics.all())
    return {
        "review": review,
        "references": citations,
        "citation_numbers": {item.citation.pk: item.number for item in citations},
        "topics": topics,
        "primary_topic": topics[0] if topics else None,
    }


def article_json_ld(*, article: ArticlePage, request, review, references, topics, author) -> str:
    """schema.org MedicalWebPage (and FAQPage when there is a FAQ), serialised safely for a <script> element."""
    url = article.get_full_url(request)
    page = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "name": article.title,
        "headline": article.title,
        "description": article.standfirst,
        "inLanguage": "en-US",
        "dateModified": article.last_published_at.isoformat() if article.last_published_at else None,
        "about": [{"@type": "MedicalCondition", "name": topic.title} for topic in topics],
        "citation": [
            {
                "@type": "ScholarlyArticle" if item.citation.doi or item.citation.pmid else "WebPage",
                "name": item.citation.title,
                "url": item.citation.link,
                **({"author": item.citation.authors} if item.citation.authors else {}),
                **({"datePublished": str(item.citation.year)} if item.citation.year else {}),
                "publisher": {"@type": "Organization", "name": item.citation.source.name},
            }
            for item in references
        ],
    }
    if review:
        page["lastReviewed"] = review.reviewed_on.isoformat()
        page["reviewedBy"] = {
            "@type": "Person",
            "name": review.reviewer.title,
            "honorificSuffix": review.reviewer.credentials,
            "url": review.reviewer.get_full_url(request),
        }
    if author:
        page["author"] = {
            "@type": "Person",
            "name": author.title,
            "honorificSuffix": author.credentials,
            "url": author.get_full_url(request),
        }
    graph = [page]
    faq_items = [block.value for block in article.faq if block.block_type == "faq"]
    if faq_items:
        graph.append(
            {
                "@context": "https://schema.org",
                "@type": "FAQPage",
                "mainEntity": [
                    {
                        "@type": "Question",
                        "name": item["question"],
                        "acceptedAnswer": {"@type": "Answer", "text": _plain_text(item["answer"])},
                    }
                    for item in faq_items
                ],
            }
        )
    payload = json.dumps(graph if len(graph) > 1 else page, ensure_ascii=False)
    # A "</script>" inside a string must not end the element.
    return payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plain_text(rich_text) -> str:
    from django.utils.html import strip_tags

    return strip_tags(str(rich_text.source if hasattr(rich_text, "source") else rich_text)).strip()
