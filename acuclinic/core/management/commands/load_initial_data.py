"""Set up a fresh site with demo content. Safe to run again: what exists already is left as it is."""

import argparse
import secrets
import uuid
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.images import ImageFile
from django.core.management.base import BaseCommand
from django.db import transaction
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.images.models import Image
from wagtail.models import Collection, Locale, Page, Site, Workflow, WorkflowPage, WorkflowTask

from acuclinic.accounts import roles
from acuclinic.accounts.roles import ensure_roles
from acuclinic.clinical.instruments.builtin import ensure_builtin as ensure_builtin_instruments
from acuclinic.content import demo_data
from acuclinic.content.models import (
    ArticleIndexPage,
    ArticlePage,
    Citation,
    MedicalReview,
    MedicalReviewTask,
    PeopleIndexPage,
    PersonPage,
    Source,
    TopicIndexPage,
    TopicPage,
    default_next_review,
)
from acuclinic.core.demo_images import draw_illustration
from acuclinic.core.models import ClinicSettings, HomePage, StandardPage
from acuclinic.scheduling.demo import ensure_demo_schedule
from acuclinic.scheduling.demo_clinic import ensure_demo_clinic
from acuclinic.scheduling.models import Practitioner

PRIVACY_INTRO = "How we use the information you give us when you ask for an appointment or read our articles."
PRIVACY_BODY = """
<h2>What we collect</h2>
<p>When you ask for an appointment we keep what you type into the form: your name, date of birth, how to reach you,
where your pain is and how long you have had it, your answers to the safety questions, your insurance details and
any message. When you answer “Was this helpful?” we keep your answer and note, and a random number in a cookie so that
you vote only once. We do not use advertising or tracking cookies.</p>
<h2>Why we use it</h2>
<p>Only to contact you about your appointment, to prepare your visit safely, and to run the clinic. Your answers to the
safety questions help our staff see quickly who needs to see a doctor first.</p>
<h2>Who can see it</h2>
<p>Only clinic staff whose job needs it. We never put health details in e-mails or text messages.</p>
<h2>Your rights</h2>
<p>You can ask us for a copy of your information, ask us to correct it, or ask us to delete it where the law allows.
Contact our office to do so. This is a demonstration site: replace this notice with your practice's own notice of
privacy practices before you use it with real patients.</p>
"""
# Fictional, like every demo person.
DEMO_PRACTITIONERS = [
    ("Casey Example", "L.Ac., Dipl. Ac. (NCCAOM)"),
    ("Morgan Sample", "L.Ac., DACM"),
    ("Riley Placeholder", "L.Ac., MSOM"),
]
# The practitioner whom the demo clinician account signs in as ("My day", their calendar).
DEMO_CLINICIAN_PRACTITIONER = "Casey Example"
# username, last name, role (None: a superuser). One account for every role in acuclinic/accounts/roles.py.
DEMO_ACCOUNTS = [
    ("demo-admin", "Superuser", None),
    ("demo-administrator", "Administrator", roles.ADMINISTRATORS),
    ("demo-frontdesk", "Frontdesk", roles.FRONT_DESK),
    ("demo-clinician", "Clinician", roles.CLINICIANS),
    ("demo-editor", "Editor", roles.EDITORS),
    ("demo-moderator", "Moderator", roles.MODERATORS),
    ("demo-reviewer", "Reviewer", roles.MEDICAL_REVIEWERS),
]


class Command(BaseCommand):
    help = (
        "Create the page tree, clinic settings, groups, the medical-review workflow, demo articles, practitioners "
        "and demo accounts; with the demo clinic on (make run), also fictional patients, visits and requests."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo-clinic",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Add (or not) the demo clinic's fictional patients, visits and requests, once "
            "(default: settings.DEMO_CLINIC, on for make run, off in production and tests).",
        )

    def handle(self, *args, **options):
        demo_clinic = settings.DEMO_CLINIC if options.get("demo_clinic") is None else options["demo_clinic"]
        clinic_note = ""
        with transaction.atomic():
            home = self.home_page()
            site = self.site(home)
            self.clinic_settings(site)
            articles_index, topics_index, people_index = self.sections(home)
            self.privacy_notice(home)
            groups = self.groups(articles_index)
            self.workflow(articles_index, groups[roles.MEDICAL_REVIEWERS])
            ensure_builtin_instruments()  # also after a test database is flushed
            sources = self.sources()
            citations = self.citations(sources)
            people = self.people(people_index)
            topics = self.topics(topics_index)
            self.articles(articles_index, citations, people, topics)
            location = self.practitioners()
            credentials = self.demo_accounts(groups, people)
            if demo_clinic:
                _marker, clinic_note = ensure_demo_clinic(location=location)
        self.stdout.write(self.style.SUCCESS("Demo content is in place."))
        if clinic_note:
            self.stdout.write(clinic_note)
        for line in credentials:
            self.stdout.write(line)

    # --- page tree -------------------------------------------------------------------------------------------
    def home_page(self) -> HomePage:
        home = HomePage.objects.first()
        if home:
            return home
        # Wagtail's migrations create the default locale and the tree's root; a flushed database has neither.
        Locale.objects.get_or_create(
            language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
        )
        if Collection.get_first_root_node() is None:
            Collection.add_root(name="Root")
        root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
        # Wagtail's placeholder "Welcome" page (and the site pointing at it) make way for ours.
        for page in root.get_children().filter(content_type__model="page"):
            page.delete()
        home = root.add_child(
            instance=HomePage(
                title="Home",
                slug="home",
                intro="<p>We treat back pain with acupuncture, alongside the care you get from your own doctor. "
                "Every article in our library is checked by a named medical reviewer.</p>",
            )
        )
        home.save_revision().publish()
        return home

    def site(self, home) -> Site:
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            return Site.objects.create(
                hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="Acuclinic"
            )
        if site.root_page_id != home.pk:
            site.root_page = home
            site.site_name = "Acuclinic"
            site.save()
        return site

    def clinic_settings(self, site):
        clinic = ClinicSettings.for_site(site)
        if clinic.address:
            return
        clinic.practice_name = "Acuclinic Back Pain & Acupuncture (demo)"
        clinic.address = "100 Example Street, Suite 200\nSpringfield, NY 10001"
        clinic.phone = "+12125550142"
        clinic.office_hours = "Monday to Friday: 8 am to 6 pm\nSaturday: 9 am to 1 pm\nSunday: closed"
        clinic.contact_email = "frontdesk@acuclinic.example"
        clinic.save()

    def sections(self, home):
        def child(model, slug, title, intro):
            existing = model.objects.child_of(home).first()
            if existing:
                return existing
            page = home.add_child(instance=model(title=title, slug=slug, intro=f"<p>{intro}</p>"))
            page.save_revision().publish()
            return page

        return (
            child(
                ArticleIndexPage,
                "articles",
                "Articles",
                "Guides to back pain and acupuncture, each checked by a named medical reviewer.",
            ),
            child(TopicIndexPage, "topics", "Topics", "Browse our articles by topic."),
            child(
                PeopleIndexPage,
                "experts",
                "Our writers and medical reviewers",
                "The people who write and check our articles.",
            ),
        )

    def privacy_notice(self, home):
        if StandardPage.objects.filter(slug="privacy").exists():
            return
        page = home.add_child(
            instance=StandardPage(
                title="Privacy notice", slug="privacy", intro=PRIVACY_INTRO, body=PRIVACY_BODY
            )
        )
        page.save_revision().publish()

    # --- permissions and workflow ----------------------------------------------------------------------------
    def groups(self, articles_index) -> dict[str, Group]:
        return ensure_roles(articles_index=articles_index)

    def workflow(self, articles_index, reviewer_group):
        workflow, created = Workflow.objects.get_or_create(name="Medical review")
        if created:
            task = MedicalReviewTask.objects.create(name="Medical review")
            task.groups.set([reviewer_group])
            WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
        WorkflowPage.objects.get_or_create(page=articles_index, defaults={"workflow": workflow})

    def practitioners(self):
        practitioners = [
            Practitioner.objects.get_or_create(name=name, defaults={"credentials": credentials})[0]
            for name, credentials in DEMO_PRACTITIONERS
        ]
        return ensure_demo_schedule(practitioners)  # location, rooms, licences, appointment types

    # --- library ---------------------------------------------------------------------------------------------
    def sources(self) -> dict[str, Source]:
        result = {}
        for item in demo_data.SOURCES:
            result[item["key"]], _ = Source.objects.get_or_create(
                name=item["name"], defaults={"kind": item["kind"], "url": item["url"]}
            )
        return result

    def citations(self, sources) -> dict[str, Citation]:
        result = {}
        for item in demo_data.CITATIONS:
            citation = Citation.objects.filter(title=item["title"], source=sources[item["source"]]).first()
            if citation is None:
                citation = Citation(
                    title=item["title"],
                    authors=item.get("authors", ""),
                    year=item.get("year"),
                    source=sources[item["source"]],
                    container=item.get("container", ""),
                    url=item.get("url", ""),
                    doi=item.get("doi", ""),
                    pmid=item.get("pmid", ""),
                )
                citation.full_clean()
                citation.save()
            result[item["key"]] = citation
        return result

    def people(self, people_index) -> dict[str, PersonPage]:
        result = {}
        for item in demo_data.PEOPLE:
            slug = item["key"]
            person = PersonPage.objects.filter(slug=slug).first()
            if person is None:
                person = people_index.add_child(
                    instance=PersonPage(
                        title=item["name"],
                        slug=slug,
                        credentials=item.get("credentials", ""),
                        job_title=item.get("job_title", ""),
                        bio=f"<p>{item.get('bio', '')}</p>",
                        is_author="author" in item["roles"],
                        is_reviewer="reviewer" in item["roles"],
                        is_example=item.get("is_example", True),
                    )
                )
                person.save_revision().publish()
            result[item["key"]] = person
        return result

    def topics(self, topics_index) -> dict[str, TopicPage]:
        result = {}
        for item in demo_data.TOPICS:
            topic = TopicPage.objects.filter(slug=item["key"]).first()
            if topic is None:
                topic = topics_index.add_child(
                    instance=TopicPage(
                        title=item["title"], slug=item["key"], intro=f"<p>{item.get('intro', '')}</p>"
                    )
                )
                topic.save_revision().publish()
            result[item["key"]] = topic
        return result

    def articles(self, articles_index, citations, people, topics):
        created: list[tuple[ArticlePage, dict]] = []
        for item in demo_data.ARTICLES:
            if ArticlePage.objects.filter(slug=item["slug"]).exists():
                continue
            article = ArticlePage(
                title=item["title"],
                slug=item["slug"],
                standfirst=item["standfirst"],
                hero_image=self.illustration(item),
                hero_alt=item["hero_alt"],
                hero_credit=item.get("hero_credit", "Illustration: Acuclinic demo content"),
                search_description=item["standfirst"][:300],
                body=self.body(item, citations, by_slug={}),  # cross-links are added once all articles exist
                takeaways=[("takeaway", text) for text in item.get("takeaways", [])],
                faq=[
                    {
                        "type": "faq",
                        "value": {
                            "question": faq["question"],
                            "answer": faq["answer"],
                            "citations": [citations[key].pk for key in faq.get("cite", [])],
                        },
                        "id": str(uuid.uuid4()),
                    }
                    for faq in item.get("faq", [])
                ],
                author=people.get(item.get("author")),
            )
            articles_index.add_child(instance=article)
            article.topics.set([topics[key] for key in item.get("topics", [])])
            created.append((article, item))
        # Bodies go in once every article exists, so that cross-links can point at any of them.
        by_slug = {page.slug: page for page in ArticlePage.objects.all()}
        for article, item in created:
            article.body = self.body(item, citations, by_slug)
            article.full_clean()
            article.save()
            article.save_revision().publish()
            reviewed_on = date.fromisoformat(item["last_reviewed"])
            MedicalReview.objects.create(
                article=article,
                reviewer=people[item["reviewer"]],
                reviewed_on=reviewed_on,
                next_review_due=default_next_review(reviewed_on),
                comment="Demo content: review recorded when the demo was loaded.",
            )

    def body(self, item, citations, by_slug):
        stream = []
        linked = set()
        for block in item["body"]:
            kind = block["type"]
            if kind == "heading":
                value = block["text"]
            elif kind == "paragraph":
                value = {
                    "text": block["text"],
                    "citations": [citations[key].pk for key in block.get("cite", [])],
                }
            elif kind == "list":
                value = {"style": block.get("style", "bulleted"), "items": block["items"]}
            elif kind == "callout":
                value = {
                    "tone": block.get("tone", "info"),
                    "title": block["title"],
                    "text": f"<p>{block['text']}</p>",
                }
            elif kind == "related":
                target = by_slug.get(block["slug"])
                if target is None:
                    continue
                linked.add(block["slug"])
                value = {"page": target.pk, "text": block["text"]}
            else:
                raise ValueError(f"unknown demo block type {kind!r}")
            stream.append({"type": kind, "value": value, "id": str(uuid.uuid4())})
        for slug in item.get("related", []):
            target = by_slug.get(slug)
            if target is not None and slug not in linked:
                stream.append(
                    {
                        "type": "related",
                        "value": {"page": target.pk, "text": f"Read next: {target.title}"},
                        "id": str(uuid.uuid4()),
                    }
                )
        return stream

    def illustration(self, item) -> Image:
        title = f"Illustration: {item['title']}"
        image = Image.objects.filter(title=title).first()
        if image:
            return image
        data = draw_illustration(seed=item["slug"], palette=item.get("hero_palette", ["#1f5f63", "#eaf3f1"]))
        from io import BytesIO

        image = Image(title=title, description=item["hero_alt"])
        image.file.save(
            f"{item['slug']}.png", ImageFile(BytesIO(data), name=f"{item['slug']}.png"), save=False
        )
        image.save()
        return image

    # --- accounts --------------------------------------------------------------------------------------------
    def demo_accounts(self, groups, people) -> list[str]:
        """A demo staff account for every role, with random passwords kept in var/ (readable by the owner only) and
        printed. demo-admin is a superuser (Django's own admin power); demo-administrator is what a clinic's
        administrator really gets: the Administrators group. demo-clinician signs in as a demo practitioner."""
        User = get_user_model()
        credentials_file = settings.DEMO_CREDENTIALS_FILE
        stored = {}
        if credentials_file.exists():
            for line in credentials_file.read_text().splitlines():
                name, _, password = line.partition(" ")
                stored[name] = password
        accounts = {}
        for username, last_name, role in DEMO_ACCOUNTS:
            user = User.objects.filter(username=username).first()
            created = user is None
            if user is None or username not in stored:
                password = secrets.token_urlsafe(12)
                if user is None:
                    user = User(
                        username=username,
                        email=f"{username}@acuclinic.example",
                        is_staff=True,
                        first_name="Demo",
                        last_name=last_name,
                    )
                    user.is_superuser = role is None
                user.set_password(password)
                user.save()
                stored[username] = password
            if role is not None:
                user.groups.add(groups[role])
            if role == roles.MEDICAL_REVIEWERS:
                reviewer = next((p for p in people.values() if p.is_reviewer), None)
                if (
                    reviewer
                    and reviewer.user_id is None
                    and not PersonPage.objects.filter(user=user).exists()
                ):
                    reviewer.user = user
                    reviewer.save(update_fields=["user"])
            if role == roles.CLINICIANS:
                practitioner = Practitioner.objects.filter(name=DEMO_CLINICIAN_PRACTITIONER).first()
                # Linked when the account is made; an administrator's later choice (another account, or none) stays.
                if created and practitioner is not None and practitioner.user_id is None:
                    practitioner.user = user
                    practitioner.save(update_fields=["user"])
            accounts[username] = (stored[username], user)
        credentials_file.write_text("".join(f"{name} {password}\n" for name, password in stored.items()))
        credentials_file.chmod(0o600)
        base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        lines = [f"Back office: {base}/admin/"]
        for name, (password, user) in accounts.items():
            what = "superuser" if user.is_superuser else ", ".join(user.groups.values_list("name", flat=True))
            lines.append(f"  user {name!r}, password {password!r} ({what})")
        two_step = [name for name, (_p, user) in accounts.items() if roles.sees_patient_data(user)]
        lines += [
            f"  (the passwords are kept in {credentials_file})",
            f"  {', '.join(two_step)} see patient data: at first sign-in they set up two-step sign-in",
            "  with an authenticator app (scan the QR code) and get recovery codes.",
        ]
        return lines
