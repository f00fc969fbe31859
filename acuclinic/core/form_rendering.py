"""The patient-facing forms' HTML, written by Python instead of a template per widget (issue 15).

Django renders every input, option and radio button through a template of its own
(``django/forms/widgets/*.html``): the request form took ~200 template renders, most of its 20–45 ms of CPU.
``WidgetRenderer`` (``FORM_RENDERER``, so every form of the site and the back office) writes the same markup as
those templates, byte for byte, for the widgets Django ships, and falls back to the templates for anything else
(a widget with a template of its own, Wagtail's included). ``field_html``, ``choice_html`` and ``checkbox_html``
write what ``appointments/includes/field.html``, ``choice.html`` and ``checkbox.html`` did around them (the label,
hint, error and their ``aria-describedby`` links).

Every escape is the template's: ``conditional_escape`` (what autoescaping does), so a value that is already safe is
kept and everything else is escaped. ``tests/appointments/test_form_html_snapshots.py`` compares the pages with
snapshots taken from the templates.
"""

import html

from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString, mark_safe


def conditional_escape(text) -> str:
    """``django.utils.html.conditional_escape`` (what autoescaping does) without its lazy-string wrappers."""
    if hasattr(text, "__html__"):
        return text.__html__()
    return html.escape(str(text))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html"""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {conditional_escape(name)}")
        else:
            out.append(f' {conditional_escape(name)}="{conditional_escape(_s(value))}"')
    return "".join(out)


def _s(value):
    """The ``stringformat:'s'`` filter: str(), keeping a safe string safe."""
    if isinstance(value, SafeString):
        return value
    return str(value)


# Each function returns exactly what its template renders, trailing newline of the file included: an included
# template's newline stays in its parent's output (an <option> is followed by a blank line), and only the
# outermost render is stripped (``WidgetRenderer.render``, like Django's ``BaseRenderer.render``).


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html"""
    value = widget["value"]
    shown = f' value="{conditional_escape(_s(value))}"' if value is not None else ""
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>\n"
    )


def _input_include(widget: dict) -> str:
    """text.html, email.html, hidden.html, checkbox.html …: ``{% include "…/input.html" %}`` and a newline"""
    return _input(widget) + "\n"


def _input_option(widget: dict) -> str:
    """django/forms/widgets/input_option.html"""
    if not widget.get("wrap_label"):
        return _input(widget) + "\n"
    label_id = widget["attrs"].get("id")
    label_for = f' for="{conditional_escape(label_id)}"' if label_id else ""
    return f"<label{label_for}>{_input(widget)} {conditional_escape(widget['label'])}</label>\n"


def _radio_option(widget: dict) -> str:
    """radio_option.html, checkbox_option.html: ``{% include "…/input_option.html" %}`` and a newline"""
    return _input_option(widget) + "\n"


def _textarea(widget: dict) -> str:
    value = widget["value"]
    text = conditional_escape(value) if value else ""
    return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{text}</textarea>\n'


def _option(widget: dict) -> str:
    """django/forms/widgets/select_option.html"""
    return (
        f'<option value="{conditional_escape(_s(widget["value"]))}"{_attrs(widget["attrs"])}>'
        f"{conditional_escape(widget['label'])}</option>\n"
    )


def _select(widget: dict) -> str:
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            out.append("\n  " + _option_by_template(option))
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>\n")
    return "".join(out)


def _multiple_input(widget: dict) -> str:
    """django/forms/widgets/multiple_input.html"""
    attrs = widget["attrs"]
    element_id, css_class = attrs.get("id"), attrs.get("class")
    out = ["<div"]
    if element_id:
        out.append(f' id="{conditional_escape(element_id)}"')
    if css_class:
        out.append(f' class="{conditional_escape(css_class)}"')
    out.append(">")
    for group, options, _index in widget["optgroups"]:
        if group:
            out.append(f"\n  <div><label>{conditional_escape(group)}</label>")
        for option in options:
            out.append("<div>\n    " + _option_by_template(option) + "</div>")
        if group:
            out.append("\n  </div>")
    out.append("\n</div>\n")
    return "".join(out)


def _multiple_input_include(widget: dict) -> str:
    """radio.html, checkbox_select.html: ``{% include "…/multiple_input.html" %}`` and a newline"""
    return _multiple_input(widget) + "\n"


_INPUTS = {
    f"django/forms/widgets/{name}.html"
    for name in (
        "text",
        "email",
        "hidden",
        "checkbox",
        "number",
        "password",
        "url",
        "date",
        "datetime",
        "time",
    )
}
_OPTIONS = {
    "django/forms/widgets/select_option.html": _option,
    "django/forms/widgets/input_option.html": _input_option,
    "django/forms/widgets/radio_option.html": _radio_option,
    "django/forms/widgets/checkbox_option.html": _radio_option,
}
_WIDGETS = {
    "django/forms/widgets/input.html": _input,
    **dict.fromkeys(_INPUTS, _input_include),
    **_OPTIONS,
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/multiple_input.html": _multiple_input,
    "django/forms/widgets/radio.html": _multiple_input_include,
    "django/forms/widgets/checkbox_select.html": _multiple_input_include,
}


def _option_by_template(option: dict) -> str:
    write = _OPTIONS.get(option["template_name"])
    if write is None:  # a custom option template: render it as Django would (unstripped, as an include)
        return WIDGET_RENDERER.get_template(option["template_name"]).render({"widget": option})
    return write(option)


class WidgetRenderer(DjangoTemplates):
    """Django's widgets without their templates; any other template (a custom widget's) renders as usual."""

    def render(self, template_name, context, request=None):
        write = _WIDGETS.get(template_name)
        if write is None or set(context) != {"widget"}:
            return super().render(template_name, context, request=request)
        return write(context["widget"]).strip()


WIDGET_RENDERER = WidgetRenderer()  # one instance: its fallback template engine is made once


# --- around the widget: label, hint, error (appointments/includes/*.html) -----------------------------------


def _errors(field) -> str:
    """``<p class="error-text" …>`` with the field's errors joined by a space, or ''."""
    errors = field.errors
    if not errors:
        return ""
    joined = " ".join(str(conditional_escape(error)) for error in errors)
    return (
        f'<p class="error-text" id="{conditional_escape(field.auto_id)}-error">'
        f'<span class="visually-hidden">Error: </span>{joined}</p>'
    )


def _hint(field) -> str:
    if not field.help_text:
        return ""
    return f'<p class="hint" id="{conditional_escape(field.auto_id)}-hint">{conditional_escape(field.help_text)}</p>'


def described_widget(field) -> str:
    """The input with ``aria-describedby`` pointing at its hint and error (the ``described`` filter)."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}-hint")
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    return field.as_widget(attrs={"aria-describedby": " ".join(ids)} if ids else None)


def field_html(field, label_context=None) -> SafeString:
    """appointments/includes/field.html: label (with "(optional)"), hint, error, the input (all escaped)."""
    label = conditional_escape(field.label)
    context = (
        f'<span class="visually-hidden">, {conditional_escape(str(label_context).lower())}</span>'
        if label_context
        else ""
    )
    optional = (
        ' <span class="optional">(optional)</span>'
        if not field.field.required and "(optional)" not in field.label
        else ""
    )
    return mark_safe(  # noqa: S308  # nosec B308 B703
        f'<div class="field{" field--error" if field.errors else ""}" '
        f'id="field-{conditional_escape(field.html_name)}">\n'
        f'  <label for="{conditional_escape(field.id_for_label)}">{label}{context}{optional}</label>\n'
        f"  {_hint(field)}\n"
        f"  {_errors(field)}\n"
        f"  {described_widget(field)}\n"
        "</div>\n"
    )


def choice_html(field, inline=False) -> SafeString:
    """appointments/includes/choice.html: a fieldset of radio buttons, described by its hint and error."""
    auto_id = conditional_escape(field.auto_id)
    described = ""
    if field.errors or field.help_text:
        hint_id = f"{auto_id}-hint " if field.help_text else ""
        error_id = f"{auto_id}-error" if field.errors else ""
        described = f' aria-describedby="{hint_id}{error_id}"'
    radios = "".join(
        f'<div class="choice">{radio.tag()}<label for="{conditional_escape(radio.id_for_label)}">'
        f"{conditional_escape(radio.choice_label)}</label></div>"
        for radio in field
    )
    return mark_safe(  # noqa: S308  # nosec B308 B703
        f'<fieldset class="field field--choice{" field--error" if field.errors else ""}" '
        f'id="field-{conditional_escape(field.html_name)}"{described}>\n'
        f"  <legend>{conditional_escape(field.label)}</legend>\n"
        f"  {_hint(field)}\n"
        f"  {_errors(field)}\n"
        f'  <div class="choices{" choices--inline" if inline else ""}">\n'
        f"  {radios}\n"
        "  </div>\n"
        "</fieldset>\n"
    )


def checkbox_html(field, extra=None) -> SafeString:
    """appointments/includes/checkbox.html: the box, its label, its error."""
    more = f" {conditional_escape(extra)}" if extra else ""
    return mark_safe(  # noqa: S308  # nosec B308 B703
        f'<div class="field field--checkbox{" field--error" if field.errors else ""}" '
        f'id="field-{conditional_escape(field.html_name)}">\n'
        f"  {_errors(field)}\n"
        f'  <div class="choice">{field}<label for="{conditional_escape(field.id_for_label)}">'
        f"{conditional_escape(field.label)}{more}</label></div>\n"
        "</div>\n"
    )
