"""{% load audit_tags %}{% audit_rows events %}: the audit log's table rows, written by Python.

A page of the log is 100 rows of seven cells; as template code they cost more than half of the page's CPU time
(issue 15). The markup is the one the template wrote (tests/accounts/test_audit_log.py compares them): times in the
current time zone, ``—`` for an empty staff member or record, an empty cell for no address.
"""

from django import template
from django.utils import dateformat
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from acuclinic.core.form_rendering import conditional_escape as e

register = template.Library()

_ROW = (
    "\n                    <tr>\n"
    "                        <td>{seq}</td>\n"
    '                        <td><time datetime="{iso}">{shown}</time></td>\n'
    "                        <td>{actor}</td>\n"
    "                        <td>{action}</td>\n"
    "                        <td>{ref}</td>\n"
    "                        <td>{detail}</td>\n"
    "                        <td>{address}</td>\n"
    "                    </tr>\n"
    "                "
)


@register.simple_tag
def audit_rows(events):
    rows = []
    for event in events:
        at = template_localtime(event.at)
        rows.append(
            _ROW.format(
                seq=event.seq,
                iso=e(dateformat.format(at, "c")),
                shown=e(dateformat.format(at, "M j, Y H:i:s")),
                actor=e(event.actor_username or "—"),
                action=e(event.get_action_display()),
                ref=e(event.object_ref or "—"),
                detail=e(event.detail),
                address=e(event.ip_address or ""),
            )
        )
    # Every value is escaped above.
    return mark_safe("".join(rows))  # noqa: S308  # nosec B308 B703
