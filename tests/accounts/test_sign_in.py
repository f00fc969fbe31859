"""Signing in: argon2, lock-out, two-step sign-in for roles that see patient data, idle sessions."""

import re
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from acuclinic.accounts import roles
from acuclinic.accounts.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.real_two_factor]

PASSWORD = "a-long-test-password-42"
LOGIN = "/admin/login/"
INBOX = "/admin/appointment-requests/"


def make_user(username, group):
    user = get_user_model().objects.create_user(username, f"{username}@acuclinic.example", PASSWORD)
    user.groups.add(Group.objects.get(name=group))
    return user


def sign_in(client, username, password=PASSWORD, next_url="/admin/"):
    return client.post(LOGIN, {"username": username, "password": password, "next": next_url})


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def frontdesk(demo):
    return make_user("frida", roles.FRONT_DESK)


def test_production_hashes_passwords_with_argon2id(demo):
    from acuclinic.settings import base

    user = make_user("hasher", roles.EDITORS)
    # (The test settings use a fast hasher; this checks the real setting with the real library.)
    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        user.set_password(PASSWORD)
        assert user.password.startswith("argon2$argon2id$")
        assert user.check_password(PASSWORD)


def test_front_desk_must_set_up_two_step_sign_in_then_gets_recovery_codes(frontdesk):
    client = Client()
    response = sign_in(client, "frida", next_url=INBOX)
    assert response.status_code == 302
    # The password alone opens nothing that holds patient data.
    response = client.get(INBOX)
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/setup/")
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code
    device = TOTPDevice.objects.get(user=frontdesk, confirmed=False)

    wrong = client.post("/account/two-factor/setup/", {"token": "000000", "next": INBOX})
    assert wrong.status_code == 200 and b"That code is not right" in wrong.content
    assert client.get(INBOX).status_code == 302
    time.sleep(1.1)  # django-otp slows down guessing: one second after the first wrong code

    done = client.post("/account/two-factor/setup/", {"token": current_code(device), "next": INBOX})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]+)</code>", done.content.decode())
    assert len(codes) == 10
    assert client.get(INBOX).status_code == 200


def test_a_new_sign_in_needs_the_code_again_and_a_recovery_code_works_once(frontdesk):
    device = TOTPDevice.objects.create(user=frontdesk, name="phone", confirmed=True)
    from acuclinic.accounts.services import issue_recovery_codes

    codes = issue_recovery_codes(user=frontdesk)
    client = Client()
    sign_in(client, "frida")
    response = client.get(INBOX)
    assert response["Location"].startswith("/account/two-factor/verify/")
    assert client.post("/account/two-factor/verify/", {"token": codes[0], "next": INBOX})["Location"] == INBOX
    assert client.get(INBOX).status_code == 200
    assert not StaticToken.objects.filter(token=codes[0]).exists()  # used up

    other = Client()
    sign_in(other, "frida")
    again = other.post("/account/two-factor/verify/", {"token": codes[0], "next": INBOX})
    assert again.status_code == 200 and b"used already" in again.content
    time.sleep(1.1)  # django-otp slows down guessing: one second after the first wrong code
    ok = other.post("/account/two-factor/verify/", {"token": current_code(device), "next": INBOX})
    assert ok.status_code == 302
    assert other.get(INBOX).status_code == 200


def test_roles_without_patient_data_need_no_second_step(demo):
    make_user("eddie", roles.EDITORS)
    client = Client()
    sign_in(client, "eddie")
    assert client.get("/admin/").status_code == 200


def test_every_role_that_sees_patient_data_is_marked_so():
    assert {name for name, role in roles.ROLES.items() if role.sees_patient_data} == {
        roles.FRONT_DESK,
        roles.CLINICIANS,
        roles.ADMINISTRATORS,
    }


def test_verify_does_not_redirect_off_site(frontdesk):
    TOTPDevice.objects.create(user=frontdesk, name="phone", confirmed=True)
    device = TOTPDevice.objects.get(user=frontdesk)
    client = Client()
    sign_in(client, "frida")
    response = client.post(
        "/account/two-factor/verify/", {"token": current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/admin/"


def test_repeated_wrong_passwords_lock_the_account_even_with_the_right_one(frontdesk):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "frida", password="wrong-password").status_code == 200
    assert sign_in(client, "frida", password="wrong-password").status_code == 429
    response = sign_in(client, "frida")
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert AuditEvent.objects.filter(action="sign_in_failed").count() >= settings.AXES_FAILURE_LIMIT


def test_sessions_end_after_30_idle_minutes_and_each_request_renews_them(frontdesk):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    client = Client()
    sign_in(client, "frida")
    first = client.session.get_expiry_date()
    time.sleep(0.01)
    client.get("/admin/")
    assert client.session.get_expiry_date() > first


def test_changing_the_password_signs_out_every_other_device(frontdesk):
    TOTPDevice.objects.create(user=frontdesk, name="phone", confirmed=True)
    laptop, phone = Client(), Client()
    sign_in(laptop, "frida")
    sign_in(phone, "frida")
    frontdesk.set_password("another-long-password-43")
    frontdesk.save()
    # Django ties each session to the password hash: the old sessions are no longer signed in.
    for client in (laptop, phone):
        response = client.get(INBOX)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_sign_in_and_sign_out_are_audited(frontdesk):
    client = Client()
    sign_in(client, "frida")
    client.post("/admin/logout/")
    actions = list(
        AuditEvent.objects.filter(actor_username="frida").order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["sign_in", "sign_out"]
