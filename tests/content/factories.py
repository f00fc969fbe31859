"""Small builders for library content in tests."""

import uuid

from acuclinic.content.models import (
    ArticleIndexPage,
    ArticlePage,
    Citation,
    Source,
    TopicIndexPage,
    TopicPage,
)


def make_citations(n: int, *, prefix: str = "Study") -> list[Citation]:
    source, _ = Source.objects.get_or_create(
        name="PubMed Central", defaults={"kind": "nlm_database", "url": "https://www.ncbi.nlm.nih.gov/pmc/"}
    )
    return [
        Citation.objects.create(
            title=f"{prefix} {i}", authors="Doe J", year=2020, source=source, pmid=str(1000 + i)
        )
        for i in range(n)
    ]


def make_topics(n: int) -> list[TopicPage]:
    index = TopicIndexPage.objects.get()
    topics = []
    for _ in range(n):
        slug = f"topic-{uuid.uuid4().hex[:8]}"
        topic = index.add_child(instance=TopicPage(title=slug.title(), slug=slug))
        topic.save_revision().publish()
        topics.append(topic)
    return topics


def make_article(
    *, citations=(), faqs: int = 0, topics=(), slug: str | None = None, title="Test article"
) -> ArticlePage:
    body = [{"type": "heading", "value": "Section", "id": str(uuid.uuid4())}]
    for citation in citations:
        body.append(
            {
                "type": "paragraph",
                "value": {"text": f"<p>A finding from {citation.title}.</p>", "citations": [citation.pk]},
                "id": str(uuid.uuid4()),
            }
        )
    faq = [
        {
            "type": "faq",
            "value": {
                "question": f"Question {i}?",
                "answer": f"<p>Answer {i}.</p>",
                "citations": [c.pk for c in citations],
            },
            "id": str(uuid.uuid4()),
        }
        for i in range(faqs)
    ]
    index = ArticleIndexPage.objects.get()
    article = index.add_child(
        instance=ArticlePage(
            title=title,
            slug=slug or f"article-{uuid.uuid4().hex[:8]}",
            standfirst="What you will learn.",
            body=body,
            faq=faq,
        )
    )
    article.topics.set(topics)
    article.save_revision().publish()
    return ArticlePage.objects.get(pk=article.pk)
