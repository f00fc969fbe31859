"""{% load form_fields %}: {{ field|described }} renders a field's input with ``aria-describedby`` pointing at the
hint and the error that ``appointments/includes/field.html`` shows ("id_x-hint", "id_x-error").

Django 5.2 adds its own ``aria-describedby="id_x_helptext id_x_error"``, ids no element on our pages has: a
screen reader would then never read "as MM/DD/YYYY" or the error with the field.
"""

from django import template

register = template.Library()


@register.filter
def described(field):
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}-hint")
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    return field.as_widget(attrs={"aria-describedby": " ".join(ids)} if ids else None)
