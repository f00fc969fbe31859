"""The audit log's rows, written by Python ({% audit_rows %}), are the markup the template loop wrote."""

from datetime import UTC, datetime

import pytest
from django.template import engines

from acuclinic.accounts.models import AuditEvent

# The loop as it was in accounts/admin/audit_log.html before issue 15.
TEMPLATE_LOOP = """                {% for event in page_obj.object_list %}
                    <tr>
                        <td>{{ event.seq }}</td>
                        <td><time datetime="{{ event.at|date:'c' }}">{{ event.at|date:"M j, Y H:i:s" }}</time></td>
                        <td>{{ event.actor_username|default:"—" }}</td>
                        <td>{{ event.get_action_display }}</td>
                        <td>{{ event.object_ref|default:"—" }}</td>
                        <td>{{ event.detail }}</td>
                        <td>{{ event.ip_address|default:"" }}</td>
                    </tr>
                {% endfor %}
"""
TAG = "{% load audit_tags %}                {% audit_rows page_obj.object_list %}\n"


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_rows_are_the_markup_of_the_template_loop(settings, zone):
    settings.TIME_ZONE = zone
    events = [
        AuditEvent(
            seq=12345,
            at=datetime(2030, 3, 10, 6, 59, 58, tzinfo=UTC),
            actor_username="desk<1>",
            action=AuditEvent.Action.LIST,
            object_type="clinical.patient",
            object_id="7",
            detail='page 2; q="Lopez & Sons" <b>',
            ip_address="203.0.113.9",
        ),
        AuditEvent(
            seq=1, at=datetime(2029, 12, 31, 23, 0, tzinfo=UTC), action=AuditEvent.Action.SIGN_IN_FAILED
        ),
    ]
    context = {"page_obj": {"object_list": events}}
    django = engines["django"]
    expected = django.from_string(TEMPLATE_LOOP).render(context)
    assert django.from_string(TAG).render(context) == expected
