import re
from datetime import date

import pytest

from acuclinic.content.models import ArticlePage, HelpfulVote, MedicalReview, PersonPage

from .factories import make_article

pytestmark = pytest.mark.django_db


def test_helpful_vote_without_javascript_redirects_with_thanks(demo, client):
    response = client.post(
        f"/articles/{demo.pk}/helpful/", {"helpful": "no", "missing": "Costs of treatment"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{demo.url}?feedback=thanks#helpful"
    vote = HelpfulVote.objects.get(article=demo)
    assert vote.helpful is False and vote.missing == "Costs of treatment"
    thanks = client.get(f"{demo.url}?feedback=thanks").content.decode()
    assert "Thank you for your feedback." in thanks


def test_helpful_vote_with_javascript_answers_json(demo, client):
    response = client.post(
        f"/articles/{demo.pk}/helpful/", {"helpful": "yes"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True, "helpful": True}


def test_one_vote_per_browser_per_article(demo, client):
    client.post(f"/articles/{demo.pk}/helpful/", {"helpful": "yes"})
    client.post(f"/articles/{demo.pk}/helpful/", {"helpful": "no", "missing": "More on cost"})
    assert HelpfulVote.objects.filter(article=demo).count() == 1
    assert HelpfulVote.objects.get(article=demo).helpful is False
    # Another browser is another vote; the cookie itself is never stored.
    from django.test import Client

    Client().post(f"/articles/{demo.pk}/helpful/", {"helpful": "yes"})
    assert HelpfulVote.objects.filter(article=demo).count() == 2
    assert client.cookies["acu_voter"].value not in set(HelpfulVote.objects.values_list("voter", flat=True))


def test_helpful_vote_rejects_bad_input_with_a_message(demo, client):
    response = client.post(f"/articles/{demo.pk}/helpful/", {"helpful": "maybe"})
    assert response.status_code == 400
    assert "Your feedback was not sent" in response.content.decode()
    response = client.post(
        f"/articles/{demo.pk}/helpful/",
        {"helpful": "no", "missing": "x" * 2000},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400 and response.json()["errors"]["missing"]
    assert not HelpfulVote.objects.exists()


def test_helpful_vote_refuses_cross_site_posts(demo, client):
    response = client.post(
        f"/articles/{demo.pk}/helpful/", {"helpful": "yes"}, HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403
    assert not HelpfulVote.objects.exists()


def test_helpful_vote_on_unknown_article_is_404(demo, client):
    assert client.post("/articles/999999/helpful/", {"helpful": "yes"}).status_code == 404


def test_topic_page_lists_articles_newest_review_first_with_reviewer(demo, client):
    html = client.get("/topics/back-pain/").content.decode()
    assert "All back pain articles" in html
    titles = re.findall(r'<h3 class="card__title"><a href="[^"]+">([^<]+)</a>', html)
    live = ArticlePage.objects.live().filter(topics__slug="back-pain")
    expected = sorted(
        live, key=lambda a: MedicalReview.objects.filter(article=a).first().reviewed_on, reverse=True
    )
    assert titles == [a.title.replace("'", "&#x27;") for a in expected]
    assert "Medically reviewed by" in html


def test_topic_page_paginates(demo, client):
    topic = ArticlePage.objects.first().topics.get(slug="back-pain")
    reviewer = PersonPage.objects.filter(is_reviewer=True).first()
    for i in range(12):
        article = make_article(title=f"Extra article {i}", topics=[topic])
        MedicalReview.objects.create(
            article=article, reviewer=reviewer, reviewed_on=date(2026, 1, 1), next_review_due=date(2027, 1, 1)
        )
    first = client.get("/topics/back-pain/").content.decode()
    assert "Page 1 of 2" in first and 'rel="next" href="?page=2"' in first
    second = client.get("/topics/back-pain/?page=2").content.decode()
    assert "Page 2 of 2" in second
    assert client.get("/topics/back-pain/?page=99").status_code == 302
    assert client.get("/topics/back-pain/?page=abc").status_code == 200


def test_topic_atom_feed(demo, client):
    response = client.get("/topics/back-pain/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    assert "<feed" in body and demo.title in body


def test_search_finds_articles(demo, client):
    from django.core.management import call_command

    call_command("update_index", stdout=open("/dev/null", "w"))  # noqa: SIM115
    html = client.get("/search/", {"q": "acupuncture back pain"}).content.decode()
    assert demo.title.split(":")[0] in html
    assert "result" in html
    empty = client.get("/search/", {"q": "zzzqqq"}).content.decode()
    assert "No results" in empty


def test_search_survives_hostile_input(demo, client):
    for q in ["'", "\x00", "a" * 5000, "<script>", "page=-1"]:
        response = client.get("/search/", {"q": q, "page": "-1"})
        assert response.status_code == 200
        assert "<script>alert" not in response.content.decode()


def test_sitemap_lists_articles_with_lastmod(demo, client):
    body = client.get("/sitemap.xml").content.decode()
    assert demo.full_url.replace("localhost", "localhost") in body or demo.url in body
    assert "<lastmod>" in body


def test_people_pages(demo, client):
    assert client.get("/experts/").status_code == 200
    for person in PersonPage.objects.live():
        html = client.get(person.url).content.decode()
        assert person.title in html
