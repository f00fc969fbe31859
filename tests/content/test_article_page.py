import json
import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from acuclinic.content.models import ArticlePage, Citation, MedicalReview, PersonPage

from .factories import make_article, make_citations, make_topics

pytestmark = pytest.mark.django_db


def test_article_shows_reviewer_credentials_and_review_date(demo, client):
    review = MedicalReview.objects.filter(article=demo).first()
    html = client.get(demo.url).content.decode()
    reviewer = review.reviewer
    expected_date = f"{review.reviewed_on:%B} {review.reviewed_on.day}, {review.reviewed_on.year}"
    assert (
        f'Medically reviewed by <a href="{reviewer.url}">{reviewer.title}, {reviewer.credentials}</a>' in html
    )
    assert f'Last reviewed <time datetime="{review.reviewed_on:%Y-%m-%d}">{expected_date}</time>' in html


def test_latest_review_wins(demo, client):
    reviewer = PersonPage.objects.filter(is_reviewer=True).last()
    MedicalReview.objects.create(
        article=demo, reviewer=reviewer, reviewed_on=date(2026, 11, 20), next_review_due=date(2027, 11, 20)
    )
    assert (
        'Last reviewed <time datetime="2026-11-20">November 20, 2026</time>'
        in client.get(demo.url).content.decode()
    )


def test_citation_markers_open_source_name_label_and_link_without_javascript(demo, client):
    html = client.get(demo.url).content.decode()
    markers = re.findall(r'<button type="button" class="cite__marker" popovertarget="([^"]+)"', html)
    assert markers, "the article has inline citation markers"
    first = markers[0]
    popover = re.search(
        rf'<span class="cite__pop" id="{first}" popover>(.*?)</span></span>', html, re.S
    ).group(1)
    assert "cite__name" in popover and "Go to source" in popover
    assert any(
        label in popover
        for label in (
            "Database of the US National Library of Medicine",
            "Government authority",
            "Peer-reviewed journal",
            "Medical society",
            "Professional certification body",
        )
    )
    # Each popover id is unique on the page.
    assert len(markers) == len(set(markers))


def test_references_are_numbered_in_order_of_first_citation(db, demo, client):
    a, b, c = make_citations(3)
    article = make_article(citations=[b, a, b, c])
    html = client.get(article.url).content.decode()
    refs = re.findall(r'<li id="ref-(\d+)">\s*Doe J \(2020\)\. <cite>(Study \d)</cite>', html)
    assert refs == [("1", "Study 1"), ("2", "Study 0"), ("3", "Study 2")]


def test_article_has_disclaimer_faq_takeaways_and_topic_link(demo, client):
    html = client.get(demo.url).content.decode()
    assert "Medical disclaimer" in html and "not medical advice" in html
    assert "Frequently asked questions" in html
    assert "Key takeaways" in html
    assert "View all back pain articles" in html
    assert "Was this helpful?" in html


def test_every_demo_article_cites_three_real_sources_and_has_faqs(demo):
    articles = ArticlePage.objects.live()
    assert articles.count() >= 6
    for article in articles:
        ids = {
            c.pk
            for block in article.body
            if block.block_type == "paragraph"
            for c in block.value["citations"]
        }
        assert len({c.source_id for c in Citation.objects.filter(pk__in=ids)} | set()) >= 1
        assert len(ids) >= 3, article.title
        assert len(article.faq) >= 3, article.title
        assert article.topics.filter(slug="back-pain").exists()
        for citation in Citation.objects.filter(pk__in=ids):
            assert citation.url or citation.doi or citation.pmid


def test_json_ld_describes_a_reviewed_medical_web_page_and_faq(demo, client):
    html = client.get(demo.url).content.decode()
    raw = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S).group(1)
    graph = json.loads(raw)
    page = next(item for item in graph if item["@type"] == "MedicalWebPage")
    faq = next(item for item in graph if item["@type"] == "FAQPage")
    review = MedicalReview.objects.filter(article=demo).first()
    assert page["lastReviewed"] == review.reviewed_on.isoformat()
    assert page["reviewedBy"]["name"] == review.reviewer.title
    assert page["author"]["name"]
    assert len(page["citation"]) >= 3
    assert page["about"][0]["name"] == "Back pain"
    assert len(faq["mainEntity"]) == len(demo.faq)
    assert '<meta property="og:title"' in html and '<meta property="og:image"' in html


def test_json_ld_cannot_be_broken_out_of_by_content(demo, client):
    demo.standfirst = "Evil </script><script>alert(1)</script>"
    demo.save_revision().publish()
    html = client.get(demo.url).content.decode()
    raw = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S).group(1)
    assert "<script>" not in raw
    assert json.loads(raw)[0]["description"] == "Evil </script><script>alert(1)</script>"


def test_article_page_query_count_does_not_grow_with_citations_faqs_and_topics(demo, client, settings):
    settings.PAGE_CACHE_ENABLED = False  # measure rendering, not the page cache
    small = make_article(citations=make_citations(1, prefix="S"), faqs=1, topics=make_topics(1))
    large = make_article(citations=make_citations(12, prefix="L"), faqs=8, topics=make_topics(5))

    def queries(url):
        client.get(url)  # warm caches that every page shares (site root paths, settings)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    assert queries(small.url) == queries(large.url)


def test_an_empty_list_cannot_be_published(demo):
    demo.body.append(("list", {"style": "bulleted", "items": []}))
    with pytest.raises(ValidationError):
        demo.full_clean()


def test_a_list_of_blank_items_cannot_be_published(demo):
    block = demo.body.stream_block.child_blocks["list"]
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"style": "bulleted", "items": [" "]}))


def test_hero_image_needs_alt_text(demo):
    demo.hero_alt = "  "
    with pytest.raises(ValidationError) as exc:
        demo.full_clean()
    assert "hero_alt" in exc.value.message_dict


def test_citation_identifiers_are_checked(demo):
    citation = Citation(
        title="X", source=Citation.objects.first().source, pmid="PMID 12", doi="doi:10.1000/xyz"
    )
    with pytest.raises(ValidationError) as exc:
        citation.full_clean()
    assert "pmid" in exc.value.message_dict and "doi" not in exc.value.message_dict
    assert citation.doi == "10.1000/xyz"
    unreachable = Citation(title="Y", source=citation.source)
    with pytest.raises(ValidationError):
        unreachable.full_clean()


def test_person_page_lists_what_they_reviewed_and_is_marked_as_example(demo, client):
    review = MedicalReview.objects.filter(article=demo).first()
    html = client.get(review.reviewer.url).content.decode()
    assert demo.title in html
    assert "Example profile for demonstration" in html
