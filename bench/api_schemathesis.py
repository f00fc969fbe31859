"""Benchmark: schemathesis against the running API, from outside, as an integrator's tooling would run it.

    .venv/bin/python bench/api_schemathesis.py [--cases 1000] [--database-url postgres://postgres@127.0.0.1:5432/postgres]
                                               [--seed 1] [--workers 1]

It makes a throwaway database (SQLite in a temporary directory, or a fresh ``acuclinic_bench_<random>`` database on
the PostgreSQL server given, dropped afterwards), migrates it, loads the demo clinic (practitioners with hours,
schedules, free slots) and serves the site with gunicorn on a free loopback port (production-like: DEBUG off). Then
it runs ``schemathesis run`` on ``/api/v1/openapi.json`` with every check, enough examples per operation for
--cases test cases in all, and prints the cases run, the failures by check (ST202 is ``positive_data_acceptance``)
and the server errors (5xx). The per-address booking allowance is raised for the run (an integrator's volume is the
OAuth clients' business; the 429 itself is documented). It exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = PROJECT_DIR / ".venv" / "bin"


def create_pg_database(server_url: str) -> tuple[str, str]:
    import psycopg

    name = f"acuclinic_bench_{secrets.token_hex(4)}"
    parts = urlsplit(server_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, urlunsplit(parts._replace(path=f"/{name}"))


def drop_pg_database(server_url: str, name: str) -> None:
    import psycopg

    parts = urlsplit(server_url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def operations_in(schema_url: str) -> int:
    with urllib.request.urlopen(schema_url, timeout=10) as response:  # noqa: S310 - loopback
        schema = json.load(response)
    methods = {"get", "post", "put", "patch", "delete"}
    return sum(1 for item in schema["paths"].values() for method in item if method in methods)


EXAMPLES: dict = {}  # (check, operation) -> what the first such failure sent and got


def count(report_path: Path) -> tuple[int, Counter, int]:
    """(cases, failures by check, responses 5xx) from schemathesis' ndjson events."""
    cases, server_errors, failures = 0, 0, Counter()
    seen = set()
    for line in report_path.read_text().splitlines():
        event = json.loads(line)
        for kind, body in event.items():
            if kind != "ScenarioFinished":
                continue
            recorder = body.get("recorder", {})
            for case_id in recorder.get("cases", {}):
                if case_id not in seen:
                    seen.add(case_id)
                    cases += 1
            for interactions in recorder.get("interactions", {}).values():
                response = (interactions or {}).get("response") or {}
                if response.get("status_code", 0) >= 500:
                    server_errors += 1
            for case_id, check_list in recorder.get("checks", {}).items():
                for check in check_list:
                    if check.get("status") == "failure":
                        failure = check.get("failure_info", {}).get("failure", {})
                        key = (check.get("name", "?"), failure.get("operation", "?"))
                        failures[key] += 1
                        case = recorder.get("cases", {}).get(case_id, {}).get("value", {})
                        answer = (recorder.get("interactions", {}).get(case_id) or {}).get("response") or {}
                        EXAMPLES.setdefault(
                            key,
                            f"{answer.get('status_code')} for query={case.get('query')} "
                            f"headers={case.get('headers')} body={json.dumps(case.get('body'))[:1500]}",
                        )
    return cases, failures, server_errors


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--database-url", help="a PostgreSQL server (postgres://…); SQLite when omitted")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="acuclinic-st-"))
    pg_name = None
    server = None
    try:
        if args.database_url:
            pg_name, database_url = create_pg_database(args.database_url)
        else:
            database_url = f"sqlite:///{work / 'bench.sqlite3'}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "acuclinic.settings.dev",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "ACUCLINIC_VAR_DIR": str(work),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PAGE_CACHE": "off",
            "APPOINTMENTS_RATE_LIMIT_PER_HOUR": "1000000",
            "LOG_LEVEL": "ERROR",
        }
        python = str(VENV_BIN / "python")
        manage = str(PROJECT_DIR / "manage.py")
        subprocess.run([python, manage, "migrate", "-v", "0"], env=env, check=True, cwd=PROJECT_DIR)
        subprocess.run(
            [python, manage, "load_initial_data", "--demo-clinic"],
            env=env,
            check=True,
            cwd=PROJECT_DIR,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        env["SITE_URL"] = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "acuclinic.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=PROJECT_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/health/", timeout=2)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        schema_url = f"{base}/api/v1/openapi.json"
        operations = operations_in(schema_url)
        per_operation = -(-args.cases // operations)
        report = work / "events.ndjson"
        started = time.monotonic()
        run = subprocess.run(
            [
                str(VENV_BIN / "schemathesis"),
                "run",
                schema_url,
                "--checks",
                "all",
                "--max-examples",
                str(per_operation),
                "--seed",
                str(args.seed),
                "--workers",
                str(args.workers),
                "--generation-database",
                "none",
                "--report",
                "ndjson",
                "--report-ndjson-path",
                str(report),
                "--no-color",
                "--output-sanitize",
                "false",
                "--suppress-health-check",
                "all",
            ],
            cwd=work,
            capture_output=True,
            text=True,
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        )
        elapsed = time.monotonic() - started
        cases, failures, server_errors = count(report)
        print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}")
        print(f"operations: {operations}, examples per operation: {per_operation}, seed {args.seed}")
        print(f"test cases: {cases} in {elapsed:.0f} s")
        print(f"server errors (5xx responses): {server_errors}")
        print("failed checks:", sum(failures.values()) or "none")
        for (check, operation), number in sorted(failures.items()):
            print(f"  {check} on {operation}: {number}")
            print(f"    e.g. {EXAMPLES.get((check, operation), '')}")
        summary = run.stdout.split("SUMMARY", 1)[-1].strip().splitlines()
        print(
            "schemathesis:",
            " / ".join(line.strip() for line in summary if line.strip() and "===" not in line),
        )
        return 1 if failures or server_errors else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        if pg_name:
            drop_pg_database(args.database_url, pg_name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
