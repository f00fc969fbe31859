"""Benchmark: concurrent appointment requests through the public form on production gunicorn, then a count of
what was stored.

    .venv/bin/python bench/request_submission.py [--requests 500] [--concurrency 16] [--database-url postgres://...]

It starts the site with ``tests/livesite.LiveSite`` (production settings, DEBUG off, 2 gunicorn sync workers, a
fresh demo database: SQLite by default, a throwaway PostgreSQL database with --database-url) with
APPOINTMENTS_RATE_LIMIT_PER_HOUR raised so that the per-address limit (10 an hour; every request here comes from
127.0.0.1) does not turn the load into spam. Then, on 127.0.0.1:

1. forms: --requests simulated patients each GET /request-appointment/ (own CSRF cookie, the form's one-time
   token and its signed "started" stamp), --concurrency at a time;
2. fill time: it waits until every form is older than the form's minimum fill time (3 s), so that nothing is
   stored as "filled too fast";
3. submissions (the measured part): every patient POSTs a valid, varied request (names, dates of birth, contact
   methods, reasons, preferred dates, now and then a safety answer "yes"), --concurrency at a time; about 5%
   (--double-submit) POST the same form a second time — half at once, racing the first like a double click,
   half at the end like a resubmission — which must find the same request.

It prints requests/s and p50/p95/p99 latency of the POSTs, how many were accepted (302 to the confirmation),
then counts the stored requests with ``manage.py shell`` against the site's database: every accepted form must
be stored exactly once (stored == accepted, none lost, none duplicated, both POSTs of a double submission
confirmed with the same request) and none as spam. It exits 1 when a check fails.

The load generator is Python's standard library (http.client, a fresh connection per request as gunicorn's
sync workers close them; a thread pool), bounded by --timeout per request and --max-seconds per phase. The
machine's cores are shared by the client and the server: the absolute figures are lower than on a dedicated
server.
"""

from __future__ import annotations

import argparse
import base64
import html
import http.client
import json
import math
import os
import random
import re
import sys
import threading
import time
import unicodedata
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.livesite import LiveSite  # noqa: E402

FORM_PATH = "/request-appointment/"
RECEIVED = re.compile(r"^(?:https?://[^/]+)?/request-appointment/received/([^/]+)/$")
WORKERS = 2
MIN_FILL_SECONDS = 3.0  # acuclinic/appointments/forms.py MIN_FILL_SECONDS
FILL_MARGIN_SECONDS = 0.5
RATE_LIMIT_FOR_THE_BENCHMARK = "1000000"
HIDDEN = re.compile(r'<input type="hidden" name="(csrfmiddlewaretoken|token|started)" value="([^"]*)"')
FLAG = re.compile(r'name="(flag_[a-z_]+)"')
ERROR_TEXT = re.compile(r'<p class="error-text"[^>]*>(.*?)</p>', re.S)

FIRST_NAMES = [
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "Olga",
    "Carlos",
    "Fatima",
    "John",
    "Priya",
    "Kofi",
    "Zoë",
    "Seán",
]
LAST_NAMES = ["Lopez", "Smith", "Okafor", "Chen", "Ivanova", "García", "Haddad", "O'Brien", "Patel", "Nguyen"]
REASONS = ["lower_back", "lower_back", "lower_back", "upper_mid_back", "neck"]
DURATIONS = ["acute", "subacute", "chronic", "chronic"]
TIMES = ["any", "morning", "afternoon", "evening"]
MESSAGES = ["", "", "I can come after 4 pm.", "Parking nearby would help.\nI use a cane."]

STORED_SCRIPT = """
import json
from acuclinic.appointments.models import AppointmentRequest, RequestNotification
tokens = json.load(open(TOKENS_PATH))
rows, notifications = [], 0
for start in range(0, len(tokens), 500):
    chunk = tokens[start:start + 500]
    rows += AppointmentRequest.objects.filter(submission_token__in=chunk).values_list(
        "submission_token", "pk", "is_spam", "spam_reason", "urgency"
    )
    notifications += RequestNotification.objects.filter(request__submission_token__in=chunk).count()
print("RESULT " + json.dumps({"total": AppointmentRequest.objects.count(), "rows": rows,
                              "notifications": notifications}))
"""

COUNT_SCRIPT = """
from acuclinic.appointments.models import AppointmentRequest
print("RESULT", AppointmentRequest.objects.count())
"""


# --- one patient ---------------------------------------------------------------------------------------------
@dataclass
class Patient:
    number: int
    cookie: str = ""
    form: dict[str, str] = field(default_factory=dict)  # hidden fields and the safety-question names
    flags: list[str] = field(default_factory=list)
    fetched_at: float = 0.0
    data: dict[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return self.form.get("token", "")


@dataclass
class Outcome:
    kind: str  # "get" or "post"
    patient: int
    status: int  # 0 when no answer
    seconds: float
    confirmation_pk: int | None = None
    error: str = ""  # no answer, or what the form said was wrong
    duplicate: bool = False


def send(
    site_host: str, port: int, method: str, path: str, *, body: bytes | None = None, headers=None, timeout
):
    connection = http.client.HTTPConnection(site_host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def csrf_cookie(headers) -> str:
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("csrftoken="):
            return value.split(";", 1)[0]
    return ""


def confirmation_pk(location: str) -> int | None:
    """The request's pk inside the signed confirmation token (readable without the key: it is signed only)."""
    match = RECEIVED.match(location or "")
    if not match:
        return None
    payload = match.group(1).split(":", 1)[0]
    try:
        return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    except (ValueError, TypeError):
        return None


def ascii_name(name: str) -> str:
    """“Zoë” → “zoe”: for the e-mail address (the form, like most mail systems, takes ASCII local parts)."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().replace("'", "")


def realistic_data(patient: Patient, rng: random.Random, today: date) -> dict[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 65 * 365))
    contact = rng.choice(["phone", "phone", "text", "email"])
    wanted = sorted(
        {d for d in (today + timedelta(days=rng.randrange(3, 150)) for _ in range(3)) if d.weekday() != 6}
    )
    data = {
        **patient.form,
        "website": "",
        "first_name": first,
        "last_name": last,
        "date_of_birth": born.strftime("%m/%d/%Y"),
        "phone": f"(212) 555-01{patient.number % 100:02d}",
        "email": f"{ascii_name(first)}.{patient.number}@example.org"
        if contact == "email" or rng.random() < 0.5
        else "",
        "contact_method": contact,
        "patient_status": rng.choice(["new", "returning"]),
        "reason": rng.choice(REASONS),
        "reason_detail": "",
        "pain_duration": rng.choice(DURATIONS),
        "preferred_practitioner": "",
        "insurance_carrier": rng.choice(["", "Acme Health", "Blue Example"]),
        "insurance_member_id": rng.choice(["", f"M{patient.number:07d}"]),
        "has_medicare": "yes" if born.year < 1960 else "no",
        "message": rng.choice(MESSAGES),
        "consent_to_contact": "on",
    }
    for flag in patient.flags:
        data[flag] = "yes" if rng.random() < 0.02 else "no"
    for i, day in enumerate(wanted, start=1):
        data[f"preferred_date_{i}"] = day.strftime("%m/%d/%Y")
        data[f"preferred_time_{i}"] = rng.choice(TIMES)
    if data["email"] and rng.random() < 0.3:
        data["wants_email_acknowledgement"] = "on"
    return data


# --- the phases ----------------------------------------------------------------------------------------------
class Client:
    def __init__(self, site: LiveSite, timeout: float):
        parts = urllib.parse.urlsplit(site.url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout

    def get_form(self, patient: Patient) -> Outcome:
        started = time.perf_counter()
        try:
            status, headers, body = send(self.host, self.port, "GET", FORM_PATH, timeout=self.timeout)
        except (OSError, http.client.HTTPException) as exc:
            return Outcome("get", patient.number, 0, time.perf_counter() - started, error=repr(exc))
        seconds = time.perf_counter() - started
        page = body.decode("utf-8", "replace")
        patient.form = dict(HIDDEN.findall(page))
        patient.flags = sorted(set(FLAG.findall(page)))
        patient.cookie = csrf_cookie(headers)
        patient.fetched_at = time.time()
        complete = status == 200 and set(patient.form) == {"csrfmiddlewaretoken", "token", "started"}
        error = "" if complete and patient.cookie and patient.flags else "form, token or CSRF cookie missing"
        return Outcome("get", patient.number, status, seconds, error=error)

    def post_form(self, patient: Patient, *, duplicate: bool = False) -> Outcome:
        body = urllib.parse.urlencode(patient.data).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": patient.cookie}
        started = time.perf_counter()
        try:
            status, response_headers, body = send(
                self.host, self.port, "POST", FORM_PATH, body=body, headers=headers, timeout=self.timeout
            )
        except (OSError, http.client.HTTPException) as exc:
            return Outcome("post", patient.number, 0, time.perf_counter() - started, error=repr(exc))
        seconds = time.perf_counter() - started
        location = {k.lower(): v for k, v in response_headers}.get("location", "")
        pk = confirmation_pk(location) if status == 302 else None
        error = ""
        if status != 302:
            texts = ERROR_TEXT.findall(body.decode("utf-8", "replace"))
            error = (
                "; ".join(html.unescape(re.sub(r"<[^>]+>", "", t)).strip() for t in texts) or f"HTTP {status}"
            )
        return Outcome(
            "post", patient.number, status, seconds, confirmation_pk=pk, error=error, duplicate=duplicate
        )


def run_phase(jobs, *, concurrency: int, max_seconds: float) -> tuple[list[Outcome], float, int]:
    """Run the callables `concurrency` at a time; those not started within max_seconds are skipped."""
    deadline = time.monotonic() + max_seconds
    skipped = 0
    lock = threading.Lock()

    def bounded(job):
        nonlocal skipped
        if time.monotonic() > deadline:
            with lock:
                skipped += 1
            return None
        return job()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(bounded, job) for job in jobs]
        wait(futures)
    elapsed = time.perf_counter() - started
    outcomes = [f.result() for f in futures if f.result() is not None]
    return outcomes, elapsed, skipped


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(len(sorted_values) * fraction) - 1)]


def latency_line(outcomes: list[Outcome], elapsed: float) -> str:
    seconds = sorted(o.seconds for o in outcomes if o.status)
    return (
        f"{len(outcomes) / elapsed:7.1f} req/s   p50 {percentile(seconds, 0.50) * 1000:7.1f} ms   "
        f"p95 {percentile(seconds, 0.95) * 1000:7.1f} ms   p99 {percentile(seconds, 0.99) * 1000:7.1f} ms   "
        f"max {(seconds[-1] if seconds else math.nan) * 1000:7.1f} ms"
    )


def result_of(site: LiveSite, script: str):
    output = site.manage("shell", "-c", script, timeout=300).stdout
    line = [line for line in output.splitlines() if line.startswith("RESULT ")][-1]
    return json.loads(line.removeprefix("RESULT "))


# --- main ------------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="distinct forms submitted (default 500)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (default 16)")
    parser.add_argument("--database-url", help="a postgres:// server URL; a throwaway database is made on it")
    parser.add_argument(
        "--double-submit", type=float, default=0.05, help="share of forms POSTed twice (default 0.05)"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="seconds per phase (default 300)")
    parser.add_argument("--seed", type=int, default=20240601, help="for the generated patients")
    args = parser.parse_args()
    if (
        not 1 <= args.requests <= 20_000
        or not 1 <= args.concurrency <= 256
        or not 0 <= args.double_submit <= 1
    ):
        parser.error("--requests 1..20000, --concurrency 1..256, --double-submit 0..1")
    if not 1 <= args.timeout <= 120 or not 10 <= args.max_seconds <= 3600:
        parser.error("--timeout 1..120, --max-seconds 10..3600")

    rng = random.Random(args.seed)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{args.requests} forms, {args.double_submit:.0%} submitted twice, {args.concurrency} in flight; "
        f"{database}; {WORKERS} gunicorn sync workers; {os.cpu_count()} CPU cores shared by client and server",
        flush=True,
    )
    started = time.monotonic()
    extra_env = {"APPOINTMENTS_RATE_LIMIT_PER_HOUR": RATE_LIMIT_FOR_THE_BENCHMARK}
    with LiveSite(args.database_url, workers=WORKERS, extra_env=extra_env) as site:
        print(
            f"site up at {site.url} ({site.vendor}, DEBUG off) in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        client = Client(site, args.timeout)
        stored_before = result_of(site, COUNT_SCRIPT)

        # 1. Every patient opens the form.
        patients = [Patient(number=i) for i in range(args.requests)]
        gets, get_elapsed, get_skipped = run_phase(
            [lambda p=p: client.get_form(p) for p in patients],
            concurrency=args.concurrency,
            max_seconds=args.max_seconds,
        )
        get_failures = [o for o in gets if o.status != 200 or o.error]
        print(f"\n== GET {FORM_PATH} ({len(gets)} forms)\n   {latency_line(gets, get_elapsed)}", flush=True)
        ready = [p for p in patients if p.token and p.cookie]
        if get_failures or get_skipped:
            print(f"   {len(get_failures)} failed, {get_skipped} not sent: {get_failures[:3]}")

        # 2. The minimum fill time, counted from the last form handed out.
        today = date.today()
        for patient in ready:
            patient.data = realistic_data(patient, rng, today)
        last_form = max((p.fetched_at for p in ready), default=time.time())
        pause = last_form + MIN_FILL_SECONDS + FILL_MARGIN_SECONDS - time.time()
        if pause > 0:
            print(
                f"\n   waiting {pause:.1f} s: every form older than the {MIN_FILL_SECONDS:g} s minimum",
                flush=True,
            )
            time.sleep(pause)

        # 3. The submissions; some twice: at once (a double click) or at the end (a resubmission).
        twice = rng.sample(ready, round(len(ready) * args.double_submit))
        at_once, at_the_end = {p.number for p in twice[::2]}, twice[1::2]
        jobs = []
        for patient in ready:
            jobs.append(lambda p=patient: client.post_form(p))
            if patient.number in at_once:
                jobs.append(lambda p=patient: client.post_form(p, duplicate=True))
        jobs += [lambda p=patient: client.post_form(p, duplicate=True) for patient in at_the_end]
        posts, post_elapsed, post_skipped = run_phase(
            jobs, concurrency=args.concurrency, max_seconds=args.max_seconds
        )

        # 4. What the server stored.
        tokens_path = site.var_dir / "bench-tokens.json"
        tokens_path.write_text(json.dumps([p.token for p in ready]))
        stored = result_of(site, STORED_SCRIPT.replace("TOKENS_PATH", repr(str(tokens_path))))

    # --- the figures and the checks --------------------------------------------------------------------------
    statuses = Counter(o.status for o in posts)
    accepted = [o for o in posts if o.status == 302 and o.confirmation_pk is not None]
    accepted_tokens = {o.patient for o in accepted}
    by_token = {
        token: (pk, is_spam, reason, urgency) for token, pk, is_spam, reason, urgency in stored["rows"]
    }
    token_of = {p.number: p.token for p in ready}
    stored_tokens = Counter(token for token, *_ in stored["rows"])
    lost = [n for n in accepted_tokens if token_of[n] not in by_token]
    duplicated = [t for t, count in stored_tokens.items() if count > 1]
    not_accepted_but_stored = [n for n, t in token_of.items() if t in by_token and n not in accepted_tokens]
    wrong_confirmation = [
        o for o in accepted if by_token.get(token_of[o.patient], (None,))[0] != o.confirmation_pk
    ]
    spam = Counter(reason for _pk, is_spam, reason, _u in by_token.values() if is_spam)
    urgencies = Counter(urgency for *_x, urgency in by_token.values())
    doubles = [o for o in posts if o.duplicate]
    new_rows = stored["total"] - stored_before

    print(
        f"\n== POST {FORM_PATH} ({len(posts)} POSTs: {len(ready)} forms + {len(doubles)} second submissions, "
        f"{args.concurrency} in flight)"
    )
    print(f"   {latency_line(posts, post_elapsed)}")
    not_sent = f"; {post_skipped} not sent (time limit)" if post_skipped else ""
    print(f"   responses: {dict(sorted(statuses.items()))}{not_sent}")
    print(
        f"   accepted (302 to the confirmation): {len(accepted)} POSTs, {len(accepted_tokens)} distinct forms"
    )
    refused = Counter(o.error for o in posts if o.status != 302 or o.confirmation_pk is None)
    for error, count in refused.most_common(5):
        print(f"   not accepted ({count}): {error or 'a redirect elsewhere'}")
    print(f"\n== stored ({database}, counted with manage.py shell)")
    print(f"   requests stored for these forms: {len(by_token)} (new rows in the table: {new_rows})")
    print(f"   urgency: {dict(sorted(urgencies.items()))}; spam: {dict(spam) or 0}")
    print(f"   notifications queued for them: {stored['notifications']}")
    print(
        f"   lost (accepted, not stored): {len(lost)}; duplicated (one form, several rows): {len(duplicated)}; "
        f"stored without being accepted: {len(not_accepted_but_stored)}"
    )
    same = sum(
        1
        for o in doubles
        if o in accepted and by_token.get(token_of[o.patient], (None,))[0] == o.confirmation_pk
    )
    print(f"   second submissions confirmed with the same request: {same} of {len(doubles)}")

    failures = []
    if get_failures or get_skipped:
        failures.append(f"{len(get_failures) + get_skipped} forms could not be fetched")
    if len(accepted) != len(posts) or post_skipped:
        failures.append(f"{len(posts) - len(accepted) + post_skipped} POSTs were not accepted")
    if len(by_token) != len(accepted_tokens):
        failures.append(f"stored {len(by_token)} != accepted {len(accepted_tokens)}")
    if new_rows != len(by_token):
        failures.append(f"{new_rows} new rows for {len(by_token)} forms")
    if lost or duplicated or not_accepted_but_stored or wrong_confirmation:
        failures.append("lost, duplicated, unconfirmed or mis-confirmed requests")
    if spam:
        failures.append(f"stored as spam: {dict(spam)}")
    if same != len(doubles):
        failures.append("a second submission was not confirmed with the first one's request")
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    print(
        f"\nOK: stored == accepted == {len(accepted_tokens)}, 0 lost, 0 duplicated, "
        f"{len(doubles)} double submissions each mapped to one row, 0 spam"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
