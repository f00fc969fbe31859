"""StreamField blocks of an article body. Each renders semantic HTML that works without JavaScript."""

import re

from django.core.exceptions import ValidationError
from django.utils.safestring import mark_safe
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.images.blocks import ImageChooserBlock
from wagtail.snippets.blocks import SnippetChooserBlock

RICH_TEXT_FEATURES = ["bold", "italic", "link"]


class CitationChooserBlock(SnippetChooserBlock):
    """Chooses a Citation; loads every citation of a page in one query, with its source."""

    def __init__(self, **kwargs):
        super().__init__("content.Citation", **kwargs)

    def bulk_to_python(self, values):
        objects = self.model_class.objects.select_related("source").in_bulk(
            [v for v in values if v is not None]
        )
        return [objects.get(v) for v in values]


class HeadingBlock(blocks.CharBlock):
    class Meta:
        icon = "title"
        template = "content/blocks/heading.html"
        form_classname = "title"


class CitedParagraphBlock(blocks.StructBlock):
    """A paragraph whose citations are shown as “Trusted Source” markers at its end."""

    text = blocks.RichTextBlock(features=RICH_TEXT_FEATURES)
    citations = blocks.ListBlock(CitationChooserBlock(), default=[], min_num=0, label="Citations")

    class Meta:
        icon = "pilcrow"
        template = "content/blocks/paragraph.html"
        label = "Paragraph"


class ListItemsBlock(blocks.StructBlock):
    style = blocks.ChoiceBlock(
        choices=[("bulleted", "Bulleted"), ("numbered", "Numbered")], default="bulleted"
    )
    items = blocks.ListBlock(blocks.CharBlock(max_length=400), min_num=1, label="Items")

    class Meta:
        icon = "list-ul"
        template = "content/blocks/list.html"
        label = "List"

    def clean(self, value):
        # The page this replaces published lists whose items never rendered: a list must say something.
        value = super().clean(value)
        if not [item for item in value["items"] if str(item).strip()]:
            raise StructBlockValidationError(
                block_errors={"items": ValidationError("A list needs at least one item.")}
            )
        return value


class CalloutBlock(blocks.StructBlock):
    tone = blocks.ChoiceBlock(
        choices=[
            ("info", "Good to know"),
            ("tip", "Tip"),
            ("warning", "Caution"),
            ("urgent", "Urgent care — when to get help now"),
        ],
        default="info",
    )
    title = blocks.CharBlock(max_length=120)
    text = blocks.RichTextBlock(features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "warning"
        template = "content/blocks/callout.html"


class ArticleImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt = blocks.CharBlock(max_length=250, help_text="What the picture shows, for people who cannot see it.")
    caption = blocks.CharBlock(max_length=250, required=False)
    credit = blocks.CharBlock(max_length=120, help_text="Photographer or source, e.g. “Photo: Jane Doe”.")

    class Meta:
        icon = "image"
        template = "content/blocks/image.html"


class RelatedArticleBlock(blocks.StructBlock):
    page = blocks.PageChooserBlock(page_type="content.ArticlePage")
    text = blocks.CharBlock(max_length=160, help_text="e.g. “Learn how to choose a licensed acupuncturist”")

    class Meta:
        icon = "link"
        template = "content/blocks/related.html"
        label = "Link to another article"


class ArticleBodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = CitedParagraphBlock()
    list = ListItemsBlock()
    callout = CalloutBlock()
    image = ArticleImageBlock()
    related = RelatedArticleBlock()


class FAQBlock(blocks.StructBlock):
    question = blocks.CharBlock(max_length=200)
    answer = blocks.RichTextBlock(features=RICH_TEXT_FEATURES)
    citations = blocks.ListBlock(CitationChooserBlock(), default=[], min_num=0)

    class Meta:
        icon = "help"
        template = "content/blocks/faq.html"
        label = "Question and answer"


_LAST_PARAGRAPH_END = re.compile(r"</p>\s*$")


def append_inside_last_paragraph(html: str, addition: str) -> str:
    """Put citation markers inside the paragraph they support, not after it (keeps the HTML valid and inline)."""
    html = str(html)
    if _LAST_PARAGRAPH_END.search(html):
        html = _LAST_PARAGRAPH_END.sub(lambda _m: addition + "</p>", html, count=1)
    else:
        html += addition
    # Both parts are already safe HTML: the rich text as Wagtail renders it (sanitised with nh3 when it was
    # saved, acuclinic/core/rich_text.py) and the markers as our template rendered them (autoescaped).
    return mark_safe(html)  # noqa: S308  # nosec B308 B703
