"""{% load form_fields %}: the patient forms' fields, written in Python (acuclinic/core/form_rendering.py).

``{{ field|described }}`` renders a field's input with ``aria-describedby`` pointing at the hint and the error
shown with it ("id_x-hint", "id_x-error"). Django 5.2 adds its own ``aria-describedby="id_x_helptext id_x_error"``,
ids no element on our pages has: a screen reader would then never read "as MM/DD/YYYY" or the error with the field.

``{% field_block field %}`` (label, hint, error, input), ``{% choice_block field inline=True %}`` (a fieldset of
radio buttons) and ``{% checkbox_block field %}`` write what ``appointments/includes/field.html``,
``choice.html`` and ``checkbox.html`` do, without a template per widget.
"""

from django import template

from acuclinic.core import form_rendering

register = template.Library()


@register.filter
def described(field):
    return form_rendering.described_widget(field)


@register.simple_tag
def field_block(field, label_context=None):
    return form_rendering.field_html(field, label_context)


@register.simple_tag
def choice_block(field, inline=False):
    return form_rendering.choice_html(field, inline)


@register.simple_tag
def checkbox_block(field, extra=None):
    return form_rendering.checkbox_html(field, extra)
