"""The patient-education library: articles, topics, people, trusted sources, medical review and feedback."""

import re
from datetime import date

from dateutil.relativedelta import relativedelta
from django import forms
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models, transaction
from django.db.models import Q
from django.shortcuts import redirect
from django.utils import timezone
from modelcluster.fields import ParentalManyToManyField
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import AbstractGroupApprovalTask, Page, TaskState
from wagtail.search import index

from .blocks import RICH_TEXT_FEATURES, ArticleBodyBlock, FAQBlock


class SourceKind(models.TextChoices):
    """What a source is, in the words a reader sees beside each citation."""

    NLM_DATABASE = "nlm_database", "Database of the US National Library of Medicine"
    GOVERNMENT = "government", "Government authority"
    JOURNAL = "journal", "Peer-reviewed journal"
    PROFESSIONAL_BODY = "professional_body", "Professional certification body"
    MEDICAL_SOCIETY = "medical_society", "Medical society"


class Source(index.Indexed, models.Model):
    """A trusted publisher of evidence: PubMed Central, the National Cancer Institute, CMS …"""

    name = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=32, choices=SourceKind.choices)
    url = models.URLField(help_text="The source's home page.")

    panels = [FieldPanel("name"), FieldPanel("kind"), FieldPanel("url")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def label(self) -> str:
        return self.get_kind_display()


_PMID = re.compile(r"^\d{1,9}$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


class Citation(index.Indexed, models.Model):
    """One work an article relies on. The reader can always reach it: by URL, DOI or PMID."""

    title = models.CharField(max_length=400)
    authors = models.CharField(
        max_length=400, blank=True, help_text="e.g. “Vickers AJ, Vertosick EA, et al.”"
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    container = models.CharField("journal or publication", max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True)
    doi = models.CharField("DOI", max_length=200, blank=True, help_text="e.g. 10.1016/j.jpain.2017.11.005")
    pmid = models.CharField("PMID", max_length=12, blank=True, help_text="PubMed identifier, digits only.")

    panels = [
        FieldPanel("title"),
        FieldPanel("authors"),
        FieldRowPanel([FieldPanel("year"), FieldPanel("container")]),
        FieldPanel("source"),
        FieldPanel("url"),
        FieldRowPanel([FieldPanel("doi"), FieldPanel("pmid")]),
    ]
    search_fields = [
        index.SearchField("title"),
        index.AutocompleteField("title"),
        index.SearchField("authors"),
    ]

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                name="citation_is_reachable", condition=~Q(url="") | ~Q(doi="") | ~Q(pmid="")
            ),
            models.CheckConstraint(
                name="citation_year_plausible",
                condition=Q(year__isnull=True) | Q(year__gte=1800, year__lte=2200),
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.year})" if self.year else self.title

    def clean(self):
        super().clean()
        errors = {}
        if self.pmid and not _PMID.match(self.pmid.strip()):
            errors["pmid"] = "A PMID is digits only, e.g. 29198932."
        if self.doi:
            self.doi = self.doi.strip().removeprefix("https://doi.org/").removeprefix("doi:")
            if not _DOI.match(self.doi):
                errors["doi"] = "A DOI starts with “10.” and has a slash, e.g. 10.1016/j.jpain.2017.11.005."
        if not (self.url or self.doi or self.pmid):
            errors["url"] = "Give a URL, a DOI or a PMID so that readers can find the work."
        if errors:
            raise ValidationError(errors)

    @property
    def link(self) -> str:
        if self.url:
            return self.url
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"


class PeopleIndexPage(Page):
    intro = RichTextField(blank=True, features=RICH_TEXT_FEATURES)
    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["content.PersonPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["people"] = PersonPage.objects.child_of(self).live().select_related("photo").order_by("title")
        return context


class PersonPage(Page):
    """An author or medical reviewer; the title is the person's name."""

    credentials = models.CharField(
        max_length=120, blank=True, help_text="e.g. “D.Ac., M.S., L.Ac., Dipl. Ac.”"
    )
    job_title = models.CharField(max_length=120, blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bio = RichTextField(blank=True, features=RICH_TEXT_FEATURES)
    is_author = models.BooleanField(default=False)
    is_reviewer = models.BooleanField("is a medical reviewer", default=False)
    is_example = models.BooleanField(
        default=False, help_text="Demo content: the page says clearly that this is not a real person."
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person_profile",
        help_text="The back-office account whose approvals are recorded as this person's reviews.",
    )

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("credentials"), FieldPanel("job_title")]),
        FieldPanel("photo"),
        FieldPanel("bio"),
        MultiFieldPanel(
            [
                FieldPanel("is_author"),
                FieldPanel("is_reviewer"),
                FieldPanel("user"),
                FieldPanel("is_example"),
            ],
            heading="Role",
        ),
    ]
    parent_page_types = ["content.PeopleIndexPage"]
    subpage_types: list[str] = []
    search_fields = Page.search_fields + [index.SearchField("credentials")]

    @property
    def name_with_credentials(self) -> str:
        return f"{self.title}, {self.credentials}" if self.credentials else self.title

    def get_context(self, request, *args, **kwargs):
        from .selectors import articles_reviewed_by, articles_written_by

        context = super().get_context(request, *args, **kwargs)
        context["reviewed"] = articles_reviewed_by(person=self)
        context["written"] = articles_written_by(person=self)
        return context


class TopicIndexPage(Page):
    intro = RichTextField(blank=True, features=RICH_TEXT_FEATURES)
    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["content.TopicPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["topics"] = TopicPage.objects.child_of(self).live().order_by("title")
        return context


class TopicPage(RoutablePageMixin, Page):
    """“All back pain articles”: every live article on the topic, newest review first."""

    intro = RichTextField(blank=True, features=RICH_TEXT_FEATURES)
    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["content.TopicIndexPage"]
    subpage_types: list[str] = []
    articles_per_page = 10

    @path("")
    def listing(self, request):
        from .selectors import articles_for_topic

        paginator = Paginator(articles_for_topic(topic=self), self.articles_per_page)
        page_number = request.GET.get("page") or 1
        try:
            page_number = int(page_number)
        except (TypeError, ValueError):
            page_number = 1
        if page_number < 1 or page_number > paginator.num_pages:
            return redirect(self.url)
        return self.render(request, context_overrides={"articles": paginator.page(page_number)})

    @path("feed/")
    def feed(self, request):
        from .feeds import TopicAtomFeed

        return TopicAtomFeed(topic=self)(request)


class ArticleIndexPage(Page):
    """/articles/: the library's front door, listing topics and the latest reviewed articles."""

    intro = RichTextField(blank=True, features=RICH_TEXT_FEATURES)
    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["content.ArticlePage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        from .selectors import latest_reviewed_articles

        context = super().get_context(request, *args, **kwargs)
        context["articles"] = latest_reviewed_articles(limit=50)
        return context


class ArticlePage(Page):
    standfirst = models.TextField(
        max_length=400, help_text="One or two sentences that say what the reader will learn."
    )
    hero_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hero_alt = models.CharField(
        "hero image alt text",
        max_length=250,
        blank=True,
        help_text="What the picture shows, for people who cannot see it.",
    )
    hero_credit = models.CharField("photo credit", max_length=160, blank=True)
    body = StreamField(ArticleBodyBlock(), use_json_field=True)
    takeaways = StreamField(
        [("takeaway", blocks.CharBlock(max_length=300))],
        blank=True,
        verbose_name="key takeaways",
    )
    faq = StreamField([("faq", FAQBlock())], blank=True, verbose_name="frequently asked questions")
    topics = ParentalManyToManyField("content.TopicPage", related_name="articles", blank=True)
    author = models.ForeignKey(
        "content.PersonPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles_written",
    )

    content_panels = Page.content_panels + [
        FieldPanel("standfirst"),
        MultiFieldPanel(
            [FieldPanel("hero_image"), FieldPanel("hero_alt"), FieldPanel("hero_credit")],
            heading="Hero image",
        ),
        FieldPanel("body"),
        FieldPanel("faq"),
        FieldPanel("takeaways"),
        MultiFieldPanel(
            [FieldPanel("topics", widget=forms.CheckboxSelectMultiple), FieldPanel("author")],
            heading="About this article",
        ),
    ]
    parent_page_types = ["content.ArticleIndexPage"]
    subpage_types: list[str] = []

    search_fields = Page.search_fields + [
        index.SearchField("standfirst", boost=2),
        index.SearchField("body"),
        index.SearchField("faq"),
        index.SearchField("takeaways"),
        index.AutocompleteField("title"),
    ]

    def clean(self):
        super().clean()
        errors = {}
        if self.hero_image_id and not self.hero_alt.strip():
            errors["hero_alt"] = "Describe the hero image for people who cannot see it."
        # Block rules (a list needs items, an image needs alt text) hold for every save of a revision, not only
        # for the admin form: the page this replaces published empty lists.
        for name in ("body", "faq", "takeaways"):
            stream = getattr(self, name)
            try:
                stream.stream_block.clean(stream)
            except ValidationError as exc:
                errors[name] = exc
        if errors:
            raise ValidationError(errors)

    def get_context(self, request, *args, **kwargs):
        from .rendering import parts_for_request

        context = super().get_context(request, *args, **kwargs)
        # Rendered once per revision and kept (content/rendering.py); what depends on the request stays here.
        context["parts"] = parts_for_request(self, request)
        return context


def default_next_review(reviewed_on: date | None = None) -> date:
    reviewed_on = reviewed_on or timezone.localdate()
    return reviewed_on + relativedelta(months=settings.ACUCLINIC_DEFAULT_REVIEW_INTERVAL_MONTHS)


class RenderedArticle(models.Model):
    """An article's page parts as rendered for one revision and page-cache generation (content/rendering.py)."""

    article = models.OneToOneField(ArticlePage, on_delete=models.CASCADE, related_name="+")
    revision_id = models.PositiveBigIntegerField()
    generation = models.CharField(max_length=64)
    parts = models.JSONField()
    rendered_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"article {self.article_id} revision {self.revision_id}"


class MedicalReview(models.Model):
    """An approval by a medical reviewer. Rows are only ever added, by the review task: an edit never changes them."""

    article = models.ForeignKey(ArticlePage, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(PersonPage, on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField()
    next_review_due = models.DateField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task_state = models.OneToOneField(
        TaskState, null=True, blank=True, on_delete=models.SET_NULL, related_name="medical_review"
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        get_latest_by = ["reviewed_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="next_review_after_review", condition=Q(next_review_due__gt=models.F("reviewed_on"))
            )
        ]
        indexes = [models.Index(fields=["article", "-reviewed_on"])]

    def __str__(self):
        return f"{self.article} reviewed by {self.reviewer} on {self.reviewed_on}"


class MedicalReviewTask(AbstractGroupApprovalTask):
    """A workflow step only medical reviewers can approve; approving records who reviewed and when."""

    REVIEWER_GROUP = "Medical reviewers"

    def _is_medical_reviewer(self, user) -> bool:
        # Approval records the approver as the article's reviewer, so it needs a reviewer profile as well as the group.
        profile = getattr(user, "person_profile", None) if user.is_authenticated else None
        return (
            profile is not None
            and profile.is_reviewer
            and user.groups.filter(name=self.REVIEWER_GROUP).exists()
            and self._user_in_groups(user)
        )

    @staticmethod
    def _submitted_by(obj, user) -> bool:
        """The user sent this article to review: a reviewer may not approve their own submission."""
        state = getattr(obj, "current_workflow_state", None)
        return bool(state and user.is_authenticated and state.requested_by_id == user.pk)

    def user_can_access_editor(self, obj, user):
        return self._is_medical_reviewer(user)

    def locked_for_user(self, obj, user):
        # Administrators may still edit (and publish, which cancels the review); they cannot approve it.
        return not (user.is_superuser or self._is_medical_reviewer(user))

    def get_actions(self, obj, user):
        if self._is_medical_reviewer(user) and not self._submitted_by(obj, user):
            return [("reject", "Request changes", True), ("approve", "Approve medical review", True)]
        return []

    def get_task_states_user_can_moderate(self, user, **kwargs):
        if self._is_medical_reviewer(user):
            return self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS).exclude(
                workflow_state__requested_by=user
            )
        return TaskState.objects.none()

    def get_form_for_action(self, action):
        from .forms import MedicalReviewApprovalForm, MedicalReviewRejectForm

        return MedicalReviewApprovalForm if action == "approve" else MedicalReviewRejectForm

    @transaction.atomic
    def on_action(self, task_state, user, action_name, **kwargs):
        # One transaction: if approving fails (stale task, publishing refused), no review stays recorded.
        from .forms import MedicalReviewApprovalForm
        from .services import record_medical_review

        if action_name in ("approve", "reject") and task_state.workflow_state.requested_by_id == user.pk:
            raise PermissionDenied("You cannot review your own submission: another medical reviewer must.")
        if action_name == "approve":
            if task_state.status != TaskState.STATUS_IN_PROGRESS:
                raise PermissionDenied("This medical review is no longer awaiting approval.")
            next_review_due = kwargs.pop("next_review_due", None)
            if next_review_due is not None:
                # From the page editor the date arrives as JSON text the browser posted: validate it again.
                form = MedicalReviewApprovalForm({"next_review_due": next_review_due})
                if not form.is_valid():
                    raise BadRequest(" ".join(form.errors.get("next_review_due", ["Invalid date."])))
                next_review_due = form.cleaned_data["next_review_due"]
            record_medical_review(
                task_state=task_state,
                user=user,
                next_review_due=next_review_due,
                comment=kwargs.get("comment", ""),
            )
        return super().on_action(task_state, user, action_name, **kwargs)

    @classmethod
    def get_description(cls):
        return "A member of the Medical reviewers group checks the article and records the review."

    class Meta:
        verbose_name = "Medical review"
        verbose_name_plural = "Medical review tasks"


class HelpfulVote(models.Model):
    """“Was this helpful?” — one vote per browser per article, no account needed."""

    article = models.ForeignKey(ArticlePage, on_delete=models.CASCADE, related_name="helpful_votes")
    voter = models.CharField(max_length=64, help_text="A keyed hash of the browser's random voter cookie.")
    helpful = models.BooleanField()
    missing = models.TextField("what was missing", max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["article", "voter"], name="one_vote_per_browser_per_article")
        ]

    def __str__(self):
        return f"{'Yes' if self.helpful else 'No'} on {self.article_id}"
