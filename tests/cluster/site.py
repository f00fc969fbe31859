"""The running cluster of `make cluster` (var/cluster/env), as tests and bench/cluster_load.py see it from outside:
HTTP through haproxy, SQL on the primary and the replica."""

from __future__ import annotations

import http.client
import http.cookies
import re
import time
import urllib.parse
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
CLUSTER_DIR = PROJECT_DIR / "var" / "cluster"
HIDDEN = re.compile(r'<input type="hidden" name="(csrfmiddlewaretoken|token|started)" value="([^"]*)"')
FLAG = re.compile(r'name="(flag_[a-z_]+)"')


def cluster_env() -> dict[str, str] | None:
    path = CLUSTER_DIR / "env"
    if not path.exists():
        return None
    env = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            env[key] = value
    return env


def unreachable_reason(env: dict[str, str] | None) -> str | None:
    """Why the cluster cannot be tested, or None when its balancer and primary answer."""
    if env is None:
        return "no cluster: start one with `make cluster` (var/cluster/env is missing)"
    try:
        status, _, _ = Browser(int(env["CLUSTER_PORT"])).get("/health/", timeout=3)
    except OSError as exc:
        port = env["CLUSTER_PORT"]
        return f"no cluster: nothing answers on 127.0.0.1:{port} ({type(exc).__name__}); start it with `make cluster`"
    if status != 200:
        return f"the cluster's /health/ answered {status}"
    return None


class Browser:
    """One visitor: its own cookies, no redirects followed."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None, timeout: float = 30):
        headers = {}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            response_headers = {k.lower(): v for k, v in response.getheaders() if k.lower() != "set-cookie"}
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = http.cookies.SimpleCookie(value)
                    for key, morsel in cookie.items():
                        if morsel["max-age"] == "0" or not morsel.value:
                            self.cookies.pop(key, None)
                        else:
                            self.cookies[key] = morsel.value
            return response.status, response_headers, content.decode("utf-8", "replace")
        finally:
            connection.close()

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        return self.request("POST", path, data=data, **kwargs)


def request_form(browser: Browser, secret_key: str, number: int = 0) -> dict[str, str]:
    """The appointment-request form as a patient fills it in (its "started" stamp a minute old)."""
    from django.core import signing

    status, _, page = browser.get("/request-appointment/")
    assert status == 200, status
    data = dict(HIDDEN.findall(page))
    stamp_salt = "appointments.form-started"  # acuclinic/appointments/forms.py FORM_STAMP_SALT
    data["started"] = signing.dumps(f"{time.time() - 60:.3f}", salt=stamp_salt, key=secret_key)
    data.update(
        {
            "first_name": "Cluster",
            "last_name": f"Test{number}",
            "date_of_birth": "04/27/1961",
            "phone": f"(212) 555-01{number % 100:02d}",
            "email": "",
            "contact_method": "phone",
            "patient_status": "new",
            "reason": "lower_back",
            "reason_detail": "",
            "pain_duration": "chronic",
            "preferred_time_1": "morning",
            "insurance_carrier": "",
            "has_medicare": "no",
            "message": "",
            "consent_to_contact": "on",
            "website": "",
        }
    )
    for flag in set(FLAG.findall(page)):
        data[flag] = "no"
    return data
