"""Rich text written by staff is sanitised with nh3 before it is stored.

Wagtail's editor (Draftail) already turns what staff type into a small whitelist of elements, and refuses
``javascript:`` link addresses (``wagtail.whitelist.check_url``). But rich text also arrives by other roads:
the demo loader, data migrations, imports, the shell, a crafted form post of the editor's JSON. So every
save of a model with a ``RichTextField`` or a ``StreamField`` containing ``RichTextBlock``s passes the rich
text through ``sanitise`` (a ``pre_save`` receiver for every model): what a page renders can only have come
through it. Pages are rendered from their saved, live row, and publishing a revision saves that row.

What survives: the elements the editor features produce in Wagtail's database format (paragraphs, bold,
italic, headings h2–h4, lists, line breaks, links), ``data-block-key`` (Wagtail's block ids) and, on links,
``href`` with an http(s), mailto or tel address or a relative one, or ``linktype``/``id`` for links to pages
and documents. ``<script>``/``<style>`` go with their content; event handlers (``onerror=``…), ``style``,
``javascript:``/``data:`` addresses and every other element or attribute are dropped.

Not covered: ``QuerySet.update()`` and raw SQL skip model signals; nothing in the project writes rich text so.
"""

from __future__ import annotations

import logging

import nh3
from django.db.models.signals import pre_save
from wagtail import blocks
from wagtail.fields import RichTextField, StreamField

logger = logging.getLogger(__name__)

_BLOCK_ELEMENTS = {"p", "h2", "h3", "h4", "ol", "ul", "li", "blockquote"}
ALLOWED_TAGS = _BLOCK_ELEMENTS | {"a", "b", "i", "strong", "em", "br"}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "linktype", "id"},
    **{tag: {"data-block-key"} for tag in _BLOCK_ELEMENTS},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def sanitise(html: str) -> str:
    """Staff rich text (Wagtail's database format) with everything outside the whitelist removed."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def _clean_raw(block, raw):
    """Sanitise the rich text inside ``raw`` (a block's JSON representation), in place where possible."""
    if raw is None:
        return raw
    if isinstance(block, blocks.RichTextBlock):
        return sanitise(raw) if isinstance(raw, str) else raw
    if isinstance(block, blocks.StreamBlock) and isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and item.get("type") in block.child_blocks:
                item["value"] = _clean_raw(block.child_blocks[item["type"]], item.get("value"))
    elif isinstance(block, blocks.StructBlock) and isinstance(raw, dict):
        for name, child in block.child_blocks.items():
            if name in raw:
                raw[name] = _clean_raw(child, raw[name])
    elif isinstance(block, blocks.ListBlock) and isinstance(raw, list):
        for i, item in enumerate(raw):
            if block._item_is_in_block_format(item):
                item["value"] = _clean_raw(block.child_block, item["value"])
            else:
                raw[i] = _clean_raw(block.child_block, item)
    return raw


def _has_rich_text(block) -> bool:
    if isinstance(block, blocks.RichTextBlock):
        return True
    if isinstance(block, blocks.ListBlock):
        return _has_rich_text(block.child_block)
    children = getattr(block, "child_blocks", None) or {}
    return any(_has_rich_text(child) for child in children.values())


_fields_by_model: dict[type, tuple[list, list]] = {}


def _rich_text_fields(model) -> tuple[list, list]:
    if model not in _fields_by_model:
        fields = model._meta.concrete_fields
        _fields_by_model[model] = (
            [f for f in fields if isinstance(f, RichTextField)],
            [f for f in fields if isinstance(f, StreamField) and _has_rich_text(f.stream_block)],
        )
    return _fields_by_model[model]


def _being_saved(instance, field, update_fields) -> bool:
    """The field is loaded (a deferred one is not read just to be checked) and is among those written."""
    if update_fields is not None and field.name not in update_fields and field.attname not in update_fields:
        return False
    return field.attname in instance.__dict__


def sanitise_instance(sender, instance, raw=False, update_fields=None, **_kwargs) -> None:
    """pre_save: sanitise every rich text field and every RichTextBlock in the instance's StreamFields."""
    if raw:  # loaddata: fixtures are trusted as they are
        return
    text_fields, stream_fields = _rich_text_fields(sender)
    for field in text_fields:
        if not _being_saved(instance, field, update_fields):
            continue
        value = getattr(instance, field.attname)
        if isinstance(value, str) and value:
            setattr(instance, field.attname, sanitise(value))
    for field in stream_fields:
        if not _being_saved(instance, field, update_fields):
            continue
        value = getattr(instance, field.attname)
        if value is None:
            continue
        prep = field.stream_block.get_prep_value(value)
        setattr(instance, field.attname, _clean_raw(field.stream_block, prep))


pre_save.connect(sanitise_instance, dispatch_uid="acuclinic_sanitise_rich_text")
