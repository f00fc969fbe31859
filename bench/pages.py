"""Benchmark: every page that matters, served like production, in one table (issue 15).

    .venv/bin/python bench/pages.py [--duration 3] [--warmup 1] [--connections 4] [--rounds 1]
                                    [--database-url postgres://...] [--only article,request_form]

One server (``tests/livesite.LiveSite``: production settings, DEBUG off, 2 gunicorn sync workers, a fresh demo
database: SQLite by default, a throwaway PostgreSQL database with --database-url) with a bench clinic added:
10 practitioners with 60 visits today (as bench/calendar.py), 40 appointment requests, a patient with past
visits, 100,000 audit events. Two staff accounts (front desk; administrator) sign in **as a person does**: the
sign-in form with the password, then the two-step form with a TOTP code of their authenticator (django_otp);
their session cookie is then sent with the back-office requests.

Each page is loaded for --duration seconds (after --warmup) by a small asyncio client in this process (one
thread, --connections connections; gunicorn's sync workers close every connection), and the table gives:

    req/s        requests per second (noisy on a shared machine: the client runs on the same 2 cores)
    p99 ms       99th percentile of the latency seen by the client
    CPU ms/req   the gunicorn workers' own CPU time (utime + stime from /proc/<pid>/stat, before and after)
                 divided by the requests served: the figure that stays put on a noisy machine
    queries      SQL queries of one request, counted by the server (X-Bench-Queries, acuclinic/core/bench.py)
    vs minimal   req/s as a share of the minimal Django view's, served by the same server in the same round

"First render" rows add a query string that is new on every request: each request misses the page cache and
renders the page from scratch (what a visitor gets just after a publish or a restart), then stores it.
"""

from __future__ import annotations

import os
import sys

# bench/calendar.py is named like the standard library's `calendar`: this folder must not come first on the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import http.cookiejar  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from binascii import unhexlify  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.livesite import LiveSite  # noqa: E402

WORKERS = 2
TOTP_KEY = "3132333435363738393031323334353637383930"
PASSWORD = "bench-Pass-phrase-0123456789"  # noqa: S105 - a throwaway database's account
ARTICLE = "/articles/acupuncture-for-back-pain-research/"
CLK_TCK = os.sysconf("SC_CLK_TCK")

SETUP_SCRIPT = r"""
import importlib.util, json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

spec = importlib.util.spec_from_file_location("bench_calendar", Path(BENCH_DIR) / "calendar.py")
bench_calendar = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_calendar)

from acuclinic.accounts.models import AuditEvent
from acuclinic.accounts.roles import ADMINISTRATORS, FRONT_DESK, ensure_roles
from acuclinic.appointments.services import submit_appointment_request
from acuclinic.appointments import triage
from acuclinic.scheduling.models import Appointment, AppointmentType, Practitioner

ensure_roles()
users = {}
for name, group in (("bench-desk", FRONT_DESK), ("bench-admin", ADMINISTRATORS)):
    user = get_user_model().objects.create_user(name, f"{name}@example.com", PASSWORD)
    user.groups.add(Group.objects.get(name=group))
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True, key=TOTP_KEY)
    users[name] = user.pk

location, today = bench_calendar.set_up_clinic(10, 60)
staff = list(Practitioner.objects.filter(locations=location))
for kind in AppointmentType.objects.all():
    kind.practitioners.add(*staff)
AppointmentType.objects.filter(name="First visit with intake").update(new_patients_may_book_online=True)

# One patient with a history: eight past visits (the patient page lists them).
first = Appointment.objects.filter(location=location).exclude(status="cancelled").order_by("start").first()
patient = first.patient
past = []
for weeks in range(1, 9):
    start = first.start - timedelta(weeks=weeks)
    past.append(Appointment(patient=patient, practitioner=first.practitioner, room=first.room, location=location,
                            appointment_type=first.appointment_type, start=start, end=first.end - (first.start - start),
                            blocked_until=first.blocked_until - (first.start - start), status="completed"))
Appointment.objects.bulk_create(past)

# The inbox: 40 requests.
for n in range(40):
    submit_appointment_request(
        fields={"first_name": f"Bench{n}", "last_name": "Requester", "date_of_birth": date(1970, 1, 1 + n % 28),
                "phone": f"+1212555{n:04d}", "email": f"r{n}@example.com", "contact_method": "phone",
                "patient_status": "new", "reason": "lower_back", "reason_detail": "", "pain_duration": "chronic",
                "preferred_practitioner": None, "insurance_carrier": "", "insurance_member_id": "",
                "has_medicare": False, "message": "", "consent_to_contact": True,
                "wants_email_acknowledgement": False},
        red_flag_answers={q.key: False for q in triage.QUESTIONS}, preferred_times=[], today=today,
        token=f"bench-{n}",
    )

# The audit log: 100,000 events, chained like the real ones.
last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
seq, prev = (last[0], last[1]) if last else (0, "0" * 64)
actions = [a for a, _ in AuditEvent.Action.choices]
now = timezone.now()
batch = []
for n in range(AUDIT_EVENTS):
    seq += 1
    event = AuditEvent(seq=seq, at=now - timedelta(seconds=AUDIT_EVENTS - n), actor_id=users["bench-desk"],
                       actor_username="bench-desk", action=actions[n % len(actions)],
                       object_type="clinical.patient", object_id=str(n % 500), ip_address="127.0.0.1",
                       prev_hash=prev)
    event.hash = event.compute_hash()
    prev = event.hash
    batch.append(event)
    if len(batch) == 5000:
        AuditEvent.objects.bulk_create(batch)
        batch = []
AuditEvent.objects.bulk_create(batch)
print("BENCH-SETUP " + json.dumps({"location": location.pk, "today": today.isoformat(), "patient": patient.pk,
      "follow_up": AppointmentType.objects.get(name="Follow-up treatment").pk,
      "first_visit": AppointmentType.objects.get(name="First visit with intake").pk}))
"""


@dataclass
class Page:
    name: str
    path: str
    goal_ms: float | None = None
    who: str | None = None  # whose session cookie is sent (None: an anonymous visitor)
    unique: bool = False  # a new query string on each request: never a page-cache hit
    headers: dict = field(default_factory=dict)


@dataclass
class Row:
    page: Page
    rps: float
    p99_ms: float
    cpu_ms: float
    requests: int
    errors: int
    queries: int | None
    minimal_rps: float = math.nan


# --- the server's CPU time ---------------------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{master}/task").iterdir():
        children = (task / "children").read_text().split()
        pids.extend(int(pid) for pid in children)
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / CLK_TCK


# --- the load generator --------------------------------------------------------------------------------------------


async def _load(host, port, page: Page, cookie: str, duration: float, connections: int):
    latencies: list[float] = []
    errors = 0
    counter = 0
    deadline = time.monotonic() + duration
    extra = "".join(f"{k}: {v}\r\n" for k, v in page.headers.items())
    if cookie:
        extra += f"Cookie: {cookie}\r\n"

    async def one_connection():
        nonlocal errors, counter
        while time.monotonic() < deadline:
            path = page.path
            if page.unique:
                counter += 1
                path += ("&" if "?" in path else "?") + f"bench={os.getpid()}-{time.monotonic_ns()}-{counter}"
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}Connection: close\r\n\r\n".encode()
            )
            started = time.perf_counter()
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
                writer.write(request)
                await writer.drain()
                data = await asyncio.wait_for(reader.read(-1), 30)
                writer.close()
            except (OSError, TimeoutError):
                errors += 1
                continue
            if not data.startswith(b"HTTP/1.1 200"):
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)

    began = time.monotonic()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return latencies, errors, time.monotonic() - began


def measure(site: LiveSite, page: Page, cookie: str, args) -> Row:
    host, port = site.host, site.port
    if args.warmup:
        asyncio.run(_load(host, port, page, cookie, args.warmup, args.connections))
    pids = worker_pids(site._server.pid)
    before = cpu_seconds(pids)
    latencies, errors, elapsed = asyncio.run(_load(host, port, page, cookie, args.duration, args.connections))
    used = cpu_seconds(pids) - before
    latencies.sort()
    served = len(latencies)
    p99 = latencies[max(0, math.ceil(served * 0.99) - 1)] * 1000 if latencies else math.nan
    return Row(
        page,
        rps=served / elapsed,
        p99_ms=p99,
        cpu_ms=(used * 1000 / (served + errors)) if served + errors else math.nan,
        requests=served,
        errors=errors,
        queries=None,
    )


def count_queries(site: LiveSite, page: Page, cookie: str) -> int | None:
    counts = []
    for n in range(
        4
    ):  # the fewest: a worker that has served the page before (two workers, each its own cache)
        path = page.path
        if page.unique:
            path += ("&" if "?" in path else "?") + f"bench=queries-{n}-{time.monotonic_ns()}"
        request = urllib.request.Request(
            site.url + path, headers={"X-Bench-Queries": "1", "Cookie": cookie, **page.headers}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own server
            counts.append(response.headers.get("X-Bench-Queries"))
    counts = [int(c) for c in counts if c is not None]
    return min(counts) if counts else None


# --- signing in as a person does -----------------------------------------------------------------------------


def sign_in(site: LiveSite, username: str) -> str:
    """Password, then the authenticator's code, through the forms; returns the Cookie header of the session."""
    from django_otp.oath import TOTP

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def form_token(html: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def post(url: str, data: dict) -> tuple[str, str]:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(url, data=body, headers={"Referer": url})
        with opener.open(request, timeout=60) as response:
            return response.geturl(), response.read().decode()

    with opener.open(site.url + "/admin/login/", timeout=60) as response:
        html = response.read().decode()
    url, html = post(
        site.url + "/admin/login/?next=/admin/",
        {
            "csrfmiddlewaretoken": form_token(html),
            "username": username,
            "password": PASSWORD,
            "next": "/admin/",
        },
    )
    if "/two-factor/verify/" not in url:
        raise SystemExit(f"{username}: the password step did not lead to the two-step form (at {url})")
    code = f"{TOTP(unhexlify(TOTP_KEY)).token():06d}"
    url, html = post(url, {"csrfmiddlewaretoken": form_token(html), "token": code})
    if not url.rstrip("/").endswith("/admin"):
        raise SystemExit(f"{username}: the two-step form did not lead to the back office (at {url})")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def first_link(site: LiveSite, path: str, pattern: str) -> str:
    with urllib.request.urlopen(site.url + path, timeout=60) as response:  # noqa: S310 - our own server
        html = response.read().decode()
    found = re.search(pattern, html)
    if not found:
        raise SystemExit(f"no link matching {pattern!r} on {path}")
    return found.group(1).replace("&amp;", "&")


# --- the run -------------------------------------------------------------------------------------------------------


def pages_of(site: LiveSite, setup: dict) -> list[Page]:
    loc, follow_up, first_visit = setup["location"], setup["follow_up"], setup["first_visit"]
    chosen = f"/book/?location={loc}&type={first_visit}&who=new"
    day_link = first_link(site, chosen + "&practitioner=any", r'href="(/book/\?[^"]*day=[^"]+)"')
    time_link = first_link(site, day_link, r'href="(/book/details/\?[^"]*start=[^"]+)"')
    today = setup["today"]
    day = f"{today[5:7]}/{today[8:10]}/{today[0:4]}"
    return [
        Page("minimal Django view", "/bench/minimal/"),
        Page("article, page cache hit", ARTICLE),
        Page("article, first render", ARTICLE, goal_ms=12, unique=True),
        Page("home, first render", "/", unique=True),
        Page("request form (GET)", "/request-appointment/", goal_ms=5),
        Page("book: first visit?", f"/book/?location={loc}", goal_ms=5),
        Page("book: visit type", f"/book/?location={loc}&who=returning", goal_ms=5),
        Page("book: practitioner", f"/book/?location={loc}&type={follow_up}&who=returning", goal_ms=5),
        Page("book: day", chosen + "&practitioner=any", goal_ms=5),
        Page("book: time", day_link, goal_ms=5),
        Page("book: details (GET)", time_link, goal_ms=5),
        Page("inbox (front desk)", "/admin/appointment-requests/", goal_ms=25, who="bench-desk"),
        Page(
            "day calendar, 10 pract., 60 visits",
            f"/admin/schedule/?date={urllib.parse.quote(day)}&location={loc}",
            goal_ms=25,
            who="bench-desk",
        ),
        Page("patient page", f"/admin/patients/{setup['patient']}/", goal_ms=25, who="bench-desk"),
        Page("audit log, 100,000 events", "/admin/audit-log/", goal_ms=25, who="bench-admin"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of load per page (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per page (default 1)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (default 4)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over every page; the median is shown")
    parser.add_argument("--audit-events", type=int, default=100_000)
    parser.add_argument("--database-url", help="a postgres:// server URL; a throwaway database is made on it")
    parser.add_argument("--only", help="comma-separated words: only the pages whose name contains one")
    args = parser.parse_args()
    if not 0.5 <= args.duration <= 120 or not 1 <= args.connections <= 64 or not 1 <= args.rounds <= 10:
        parser.error("--duration 0.5..120, --connections 1..64, --rounds 1..10")

    env = {"BENCHMARK_MINIMAL_VIEW": "true", "PAGE_CACHE": "on", "APPOINTMENTS_RATE_LIMIT_PER_HOUR": "100000"}
    print("== starting the server (migrate, demo content, bench clinic) …", flush=True)
    began = time.monotonic()
    with LiveSite(args.database_url, workers=WORKERS, extra_env=env) as site:
        script = (
            SETUP_SCRIPT.replace("BENCH_DIR", repr(str(PROJECT_DIR / "bench")))
            .replace("PASSWORD", repr(PASSWORD))
            .replace("TOTP_KEY", repr(TOTP_KEY))
            .replace("AUDIT_EVENTS", str(args.audit_events))
        )
        output = site.manage("shell", "-c", script, timeout=900).stdout
        setup = json.loads(
            next(x for x in output.splitlines() if x.startswith("BENCH-SETUP ")).split(" ", 1)[1]
        )
        cookies = {name: sign_in(site, name) for name in ("bench-desk", "bench-admin")}
        pages = pages_of(site, setup)
        if args.only:
            words = [w.strip().lower() for w in args.only.split(",") if w.strip()]
            pages = [
                p for p in pages if p.name.startswith("minimal") or any(w in p.name.lower() for w in words)
            ]
        print(
            f"   {site.url} ({site.vendor}, {WORKERS} gunicorn sync workers, DEBUG off, page cache on) ready in "
            f"{time.monotonic() - began:.0f} s; {args.connections} connections, {args.duration:g} s per page "
            f"after {args.warmup:g} s warm-up, {args.rounds} round(s); {os.cpu_count()} cores shared with the client",
            flush=True,
        )
        rounds: list[list[Row]] = []
        for number in range(args.rounds):
            rows = []
            for page in pages:
                row = measure(site, page, cookies.get(page.who, ""), args)
                print(
                    f"   round {number + 1}: {page.name:<36} {row.rps:7.1f} req/s  CPU {row.cpu_ms:6.2f} ms/req",
                    flush=True,
                )
                rows.append(row)
            minimal = rows[0].rps
            for row in rows:
                row.minimal_rps = minimal
            rounds.append(rows)
        for index, page in enumerate(pages):
            rounds[0][index].queries = count_queries(site, page, cookies.get(page.who, ""))

    def median(values):
        values = sorted(v for v in values if not math.isnan(v))
        return values[len(values) // 2] if values else math.nan

    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n== pages ({database}; median of {args.rounds} round(s); CPU = gunicorn workers' own CPU time)")
    header = (
        f"{'page':<36} {'req/s':>8} {'p99 ms':>8} {'CPU ms/req':>11} {'queries':>8} {'vs minimal':>11}  goal"
    )
    print(header)
    print("-" * len(header))
    missed = 0
    for index, page in enumerate(pages):
        rows = [r[index] for r in rounds]
        rps = median([r.rps for r in rows])
        p99 = median([r.p99_ms for r in rows])
        cpu = median([r.cpu_ms for r in rows])
        ratio = median([r.rps / r.minimal_rps for r in rows])
        queries = rounds[0][index].queries
        goal = ""
        if page.goal_ms is not None:
            met = cpu <= page.goal_ms
            missed += not met
            goal = f"≤ {page.goal_ms:g} ms CPU: {'met' if met else 'MISSED'}"
        errors = sum(r.errors for r in rows)
        note = f"  ({errors} errors)" if errors else ""
        queries_text = "?" if queries is None else str(queries)
        print(
            f"{page.name:<36} {rps:8.1f} {p99:8.1f} {cpu:11.2f} {queries_text:>8} {ratio:10.2f}x  {goal}{note}"
        )
    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}; goals missed: {missed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
