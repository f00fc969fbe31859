"""Fixtures for the library's back office: staff users in their real groups and a small article to review."""

import re
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from acuclinic.content.models import ArticleIndexPage, ArticlePage, MedicalReview, PersonPage


@pytest.fixture
def editor(demo):
    """An editor (Wagtail's "Editors" group: add and change pages, no publishing)."""
    user = get_user_model().objects.create_user(
        username="ed-editor", email="editor@acuclinic.example", password="not-used-x1", first_name="Ed"
    )
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def moderator(demo):
    """A moderator: may publish, but is not a medical reviewer."""
    user = get_user_model().objects.create_user(
        username="mo-moderator", email="moderator@acuclinic.example", password="not-used-x1"
    )
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


@pytest.fixture
def superuser(demo):
    """An administrator with every permission but no reviewer profile."""
    return get_user_model().objects.create_superuser(
        username="ad-admin", email="admin@acuclinic.example", password="not-used-x1"
    )


@pytest.fixture
def reviewer_person(demo):
    return PersonPage.objects.get(slug="reviewer-1")


@pytest.fixture
def reviewer(demo, reviewer_person):
    """demo-reviewer: in the Medical reviewers group and linked to the reviewer page "Alex Placeholder"."""
    user = get_user_model().objects.get(username="demo-reviewer")
    assert reviewer_person.user_id == user.pk
    return user


@pytest.fixture
def second_reviewer(demo):
    """Another medical reviewer (Jordan Demo), with a back-office account and an e-mail address."""
    user = get_user_model().objects.create_user(
        username="jo-reviewer", email="jordan@acuclinic.example", password="not-used-x1"
    )
    user.groups.add(Group.objects.get(name="Medical reviewers"))
    person = PersonPage.objects.get(slug="reviewer-2")
    person.user = user
    person.save(update_fields=["user"])
    return user


@pytest.fixture
def make_article(demo):
    index = ArticleIndexPage.objects.get()

    def make(
        title="Heat packs for back pain",
        slug=None,
        reviewed_on=None,
        next_review_due=None,
        reviewer=None,
        live=True,
    ):
        article = ArticlePage(
            title=title,
            slug=slug or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-"),
            standfirst="What heat does for a sore back.",
            body=[("heading", "Why heat helps")],
        )
        index.add_child(instance=article)
        revision = article.save_revision()
        if live:
            revision.publish()
        else:
            article.unpublish()
        article.refresh_from_db()
        if reviewed_on:
            MedicalReview.objects.create(
                article=article,
                reviewer=reviewer or PersonPage.objects.get(slug="reviewer-2"),
                reviewed_on=reviewed_on,
                next_review_due=next_review_due
                or date(reviewed_on.year + 1, reviewed_on.month, reviewed_on.day),
            )
        return article

    return make


@pytest.fixture
def article(make_article):
    """A live article with no review yet, whose edit form is small enough to post by hand."""
    return make_article()


def edit_form_data(article, **overrides):
    """What the Wagtail page editor posts for `article` (the fields of ArticlePage's edit form)."""
    data = nested_form_data(
        {
            "title": article.title,
            "slug": article.slug,
            "standfirst": article.standfirst,
            "hero_image": "",
            "hero_alt": article.hero_alt,
            "hero_credit": article.hero_credit,
            "body": streamfield([(block.block_type, block.value) for block in article.body]),
            "faq": streamfield([]),
            "takeaways": streamfield([]),
            "author": "",
            "seo_title": "",
            "search_description": "",
            "comments": inline_formset([]),
        }
    )
    data.update(overrides)
    return data


def visible_text(html: str) -> str:
    """The text a reader sees: tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()
