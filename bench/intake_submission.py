"""Benchmark: patients filling in the intake questionnaire and consent at the same time, then a count of what was
stored.

    .venv/bin/python bench/intake_submission.py [--patients 64] [--concurrency 16] [--database-url postgres://...]

It starts the site with ``tests/livesite.LiveSite`` (production settings, DEBUG off, 2 gunicorn sync workers, a
fresh demo database: SQLite by default, a throwaway PostgreSQL database with --database-url), books a first visit
for each of --patients new patients (``manage.py shell``; the booking prepares the intake) and hands out their
signed links. Then, --concurrency at a time, every patient opens the link and POSTs each step (the warning signs
now and then with a "yes"), then signs the consent. About 10% (--double-submit) send a step and the consent twice
at once, racing like a double tap; the second must change nothing.

It prints requests/s and p50/p95/p99 of the POSTs, then counts what the database holds: every patient whose
consent was accepted (302 to "done") has exactly one completed intake with the answers sent, exactly one standing
consent, the safety flags their answers call for — submitted = stored, 0 lost, 0 duplicated. It exits 1 when a
check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(PROJECT_DIR / "bench"))

from request_submission import csrf_cookie, latency_line, run_phase, send  # noqa: E402

from acuclinic.appointments.triage import QUESTIONS  # noqa: E402
from tests.livesite import LiveSite  # noqa: E402

WORKERS = 2
CSRF = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]*)"')

SETUP_SCRIPT = """
import json
from datetime import date
from acuclinic.clinical.intake.selectors import intake_link
from acuclinic.clinical.intake.services import prepare_intake
from acuclinic.clinical.models import Patient
from tests.factories import make_booking
links = []
for n in range({count}):
    born = date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
    patient = Patient.objects.create(first_name=f"Bench{{n}}", last_name="Intake", date_of_birth=born)
    links.append(intake_link(prepare_intake(appointment=make_booking(patient))))
print("RESULT " + json.dumps(links))
"""

COUNT_SCRIPT = """
import json
from acuclinic.clinical.models import ConsentRecord, QuestionnaireResponse, SafetyFlag
from django.db.models import Count
responses = QuestionnaireResponse.objects.filter(patient__last_name="Intake")
completed = responses.filter(status="completed").select_related("patient")
standing = ConsentRecord.objects.filter(patient__last_name="Intake", withdrawn_at__isnull=True)
def most(rows):
    return max([row["n"] for row in rows.values("patient").annotate(n=Count("pk"))] or [0])
result = {{
    "completed": {{str(r.patient.first_name): r.answers for r in completed}},
    "responses_per_patient": most(responses),
    "consents_per_patient": most(standing),
    "consents": ConsentRecord.objects.filter(patient__last_name="Intake").count(),
    "pacemaker_flags": SafetyFlag.objects.filter(patient__last_name="Intake", rule="pacemaker").count(),
}}
print("RESULT " + json.dumps(result))
"""

RED_FLAGS = [question.key for question in QUESTIONS]


def steps_for(number: int, rng: random.Random) -> list[dict[str, str]]:
    onset = f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return [
        {
            "pain__where": rng.sample(["low-middle", "low-left", "low-right", "buttock"], 2),
            "pain__onset": onset,
            "pain__start": rng.choice(["gradual", "lifting", "unknown"]),
            "pain__legs": rng.choice(["no", "thigh", "below-knee"]),
            "pain__back_surgery": "no",
        },
        {"pain__now": str(number % 11), "pain__average": str((number * 7) % 11)},
        {
            f"redflag__{key}": ("yes" if key == "night_pain" and number % 9 == 0 else "no")
            for key in RED_FLAGS
        },
        {
            "tried__treatments": ["medicines"],
            "tried__other": f"stretching routine {number}",
            "tried__helped": "",
        },
        {
            "health__medications": f"medicine {number}",
            "health__blood_thinners": rng.choice(["yes", "no", "unsure"]),
            "health__pregnant": "not-applicable",
            "health__pacemaker": "yes" if number % 5 == 0 else "no",
            "health__implants": "",
            "health__needle_fear": "fine",
        },
        {
            "coverage__medicare": "yes" if number % 2 else "no",
            "coverage__carrier": "",
            "coverage__member_id": "",
        },
    ]


@dataclass
class Outcome:
    kind: str
    status: int
    seconds: float
    error: str = ""


@dataclass
class PatientRun:
    number: int
    link: str
    steps: list[dict]
    outcomes: list[Outcome] = field(default_factory=list)
    done: bool = False


class Client:
    def __init__(self, site: LiveSite, timeout: float):
        parts = urllib.parse.urlsplit(site.url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout

    def request(self, method, path, *, cookie="", data=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        headers = {"Cookie": cookie} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        status, response_headers, content = send(
            self.host, self.port, method, path, body=body, headers=headers, timeout=self.timeout
        )
        return status, response_headers, content, time.perf_counter() - started

    def fill(self, run: PatientRun, *, double: bool) -> PatientRun:
        status, headers, content, _ = self.request("GET", run.link + "step/1/")
        cookie = csrf_cookie(headers)
        token = CSRF.search(content.decode()).group(1)
        pages = [f"{run.link}step/{i}/" for i in range(1, len(run.steps) + 1)]
        today = time.strftime("%Y-%m-%d")  # the server's zone may differ by a day: the form allows that
        consent = {"name": f"Bench{run.number} Intake", "signed_date": today, "agree": "on"}
        posts = [*zip(pages, run.steps, strict=True), (run.link + "consent/", consent)]
        for index, (path, data) in enumerate(posts):
            data = {**data, "csrfmiddlewaretoken": token}
            times = 2 if double and index in (2, len(posts) - 1) else 1
            results = []

            def post(path=path, data=data, results=results):
                results.append(self.request("POST", path, cookie=cookie, data=data))

            threads = [threading.Thread(target=post) for _ in range(times)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for status, response_headers, _content, seconds in results:
                location = {k.lower(): v for k, v in response_headers}.get("location", "")
                ok = status == 302
                run.outcomes.append(
                    Outcome("post", status, seconds, "" if ok else f"HTTP {status} at {path}")
                )
                if index == len(posts) - 1 and ok and location.endswith("/done/"):
                    run.done = True
        return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--double-submit", type=float, default=0.1)
    parser.add_argument("--database-url", help="a postgres:// server URL; a throwaway database is made on it")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args()
    if not 1 <= args.patients <= 2000 or not 1 <= args.concurrency <= 128 or not 0 <= args.double_submit <= 1:
        parser.error("--patients 1..2000, --concurrency 1..128, --double-submit 0..1")
    rng = random.Random(args.seed)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{args.patients} patients, {args.double_submit:.0%} double-submitting, {args.concurrency} at a time; "
        f"{database}; {WORKERS} gunicorn sync workers; {os.cpu_count()} CPU cores shared by client and server",
        flush=True,
    )
    with LiveSite(args.database_url, workers=WORKERS) as site:
        output = site.manage("shell", "-c", SETUP_SCRIPT.format(count=args.patients), timeout=600).stdout
        links = json.loads([line for line in output.splitlines() if line.startswith("RESULT ")][-1][7:])
        runs = [PatientRun(n, link, steps_for(n, rng)) for n, link in enumerate(links)]
        client = Client(site, args.timeout)
        doubles = set(rng.sample(range(len(runs)), round(len(runs) * args.double_submit)))
        done, elapsed, skipped = run_phase(
            [lambda r=r: client.fill(r, double=r.number in doubles) for r in runs],
            concurrency=args.concurrency,
            max_seconds=1800,
        )
        outcomes = [o for r in done for o in r.outcomes]
        print(f"\n== intake POSTs ({len(outcomes)}: 6 steps + consent per patient, doubles included)")
        print(f"   {latency_line(outcomes, elapsed)}")
        errors = [o.error for o in outcomes if o.error]
        output = site.manage("shell", "-c", COUNT_SCRIPT.format(), timeout=300).stdout
        stored = json.loads([line for line in output.splitlines() if line.startswith("RESULT ")][-1][7:])
    accepted = {f"Bench{r.number}" for r in done if r.done}
    completed = stored["completed"]
    lost = sorted(accepted - set(completed))
    wrong = [
        name
        for name in accepted & set(completed)
        if completed[name].get("pain.now") != int(runs[int(name[5:])].steps[1]["pain__now"])
        or completed[name].get("tried.other") != runs[int(name[5:])].steps[3]["tried__other"]
    ]
    pacemakers = sum(
        1 for r in runs if f"Bench{r.number}" in accepted and r.steps[4]["health__pacemaker"] == "yes"
    )
    print("\n== stored")
    print(
        f"   submitted (consent accepted): {len(accepted)}   stored completed: {len(completed)}   lost: {len(lost)}"
    )
    print(
        f"   intakes per patient (max): {stored['responses_per_patient']}   standing consents per patient (max): "
        f"{stored['consents_per_patient']}   consents: {stored['consents']}   answers differing: {len(wrong)}"
    )
    print(
        f"   pacemaker flags: {stored['pacemaker_flags']} (expected {pacemakers})   non-302 answers: {len(errors)}"
    )
    failed = (
        lost
        or wrong
        or skipped
        or errors
        or len(completed) != len(accepted)
        or len(accepted) != len(runs)
        or stored["responses_per_patient"] > 1
        or stored["consents_per_patient"] > 1
        or stored["consents"] != len(accepted)
        or stored["pacemaker_flags"] != pacemakers
    )
    print("\nRESULT:", "FAIL" if failed else "PASS (submitted = stored, 0 lost, 0 duplicated)")
    if errors:
        print("   first errors:", errors[:5])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
