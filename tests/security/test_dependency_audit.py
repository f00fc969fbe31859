"""The dependency audit (issue 4): bin/audit-dependencies reads PyPI's advisories for every pinned package and never
passes without having audited. A fake PyPI on 127.0.0.1 answers like the real JSON API, so that each rule is
tested without the network; the last tests ask the real PyPI about known-vulnerable pins.
"""

import importlib.machinery
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from packaging.version import Version

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT_DIR / "bin" / "audit-dependencies"
NOW = datetime.now(UTC)


@pytest.fixture
def audit(monkeypatch):
    """bin/audit-dependencies as a module (a fresh one each test, so that IGNORED and HELD_BACK can be patched)."""
    loader = importlib.machinery.SourceFileLoader("audit_dependencies", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    monkeypatch.setitem(sys.modules, loader.name, module)
    loader.exec_module(module)
    monkeypatch.setattr(module, "IGNORED", {})
    monkeypatch.setattr(module, "HELD_BACK", {})
    return module


class FakePyPI:
    def __init__(self):
        self.routes: dict[str, tuple[int, dict | None]] = {}

    def project(self, name, releases, *, vulnerabilities=(), latest=None):
        """releases: {version: days since its upload}; latest defaults to the newest one."""
        self.routes[f"/pypi/{name}/json"] = (
            200,
            {
                "info": {"name": name, "version": latest or str(max(releases, key=Version))},
                "releases": {
                    version: [
                        {
                            "filename": f"{name}-{version}.tar.gz",
                            "upload_time_iso_8601": (NOW - timedelta(days=days)).strftime(
                                "%Y-%m-%dT%H:%M:%S.%fZ"
                            ),
                            "yanked": False,
                        }
                    ]
                    for version, days in releases.items()
                },
                "vulnerabilities": list(vulnerabilities),
            },
        )


def advisory(vuln_id, *aliases, fixed_in=(), withdrawn=None):
    return {
        "id": vuln_id,
        "aliases": list(aliases),
        "summary": "Denial of service in the parser",
        "details": "A crafted input makes the parser loop.",
        "fixed_in": list(fixed_in),
        "link": f"https://osv.dev/vulnerability/{vuln_id}",
        "source": "osv",
        "withdrawn": withdrawn,
    }


@pytest.fixture
def pypi():
    fake = FakePyPI()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = fake.routes.get(self.path, (404, None))
            data = json.dumps(body).encode() if body is not None else b"Not Found"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_port}/pypi"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def run(audit, pypi, tmp_path, capsys):
    def run(*pins):
        requirements = tmp_path / "requirements.txt"
        requirements.write_text("".join(f"{pin}\n" for pin in pins))
        code = audit.main(["--requirements", str(requirements), "--pypi-json-url", pypi.url])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_a_vulnerability_of_the_pinned_version_fails_the_audit(pypi, run):
    pypi.project(
        "parserlib", {"1.1.0": 90, "1.2.0": 30}, vulnerabilities=[advisory("GHSA-aaaa", "CVE-2026-1")]
    )
    code, out, err = run("parserlib==1.2.0")
    assert code == 1
    assert "FOUND: parserlib 1.2.0: GHSA-aaaa (CVE-2026-1)" in err
    assert "no known vulnerabilities" not in out


def test_one_flaw_under_two_databases_ids_is_reported_once_and_withdrawn_ones_not_at_all(pypi, run):
    pypi.project(
        "parserlib",
        {"1.2.0": 30},
        vulnerabilities=[
            advisory("PYSEC-2026-1", "CVE-2026-1", "GHSA-aaaa"),
            advisory("GHSA-aaaa", "CVE-2026-1", "PYSEC-2026-1"),
            advisory("GHSA-bbbb", withdrawn="2026-01-01T00:00:00Z"),
        ],
    )
    code, _, err = run("parserlib==1.2.0")
    assert code == 1
    assert err.count("FOUND:") == 1
    assert "GHSA-bbbb" not in err


def test_a_clean_pin_at_the_latest_release_passes(pypi, run):
    pypi.project(
        "parserlib", {"1.1.0": 90, "1.2.0": 30}, vulnerabilities=[advisory("GHSA-bbbb", withdrawn="x")]
    )
    code, out, err = run("parserlib==1.2.0")
    assert (code, err) == (0, "")
    assert "1 pinned packages audited" in out and "1 of them at exactly their version" in out


def test_an_accepted_vulnerability_passes_with_its_reason_shown(audit, pypi, run, monkeypatch):
    monkeypatch.setattr(audit, "IGNORED", {"CVE-2026-1": "we never parse input from patients with it"})
    pypi.project("parserlib", {"1.2.0": 30}, vulnerabilities=[advisory("GHSA-aaaa", "CVE-2026-1")])
    code, out, _ = run("parserlib==1.2.0")
    assert code == 0
    assert "accepted CVE-2026-1: we never parse input from patients with it" in out


def test_an_accepted_id_that_is_no_longer_reported_is_pointed_out(audit, pypi, run, monkeypatch):
    monkeypatch.setattr(audit, "IGNORED", {"GHSA-gone": "was a false alarm"})
    pypi.project("parserlib", {"1.2.0": 30})
    code, _, err = run("parserlib==1.2.0")
    assert code == 0
    assert "GHSA-gone is in IGNORED but no longer reported" in err


def test_a_pin_behind_the_latest_release_is_a_warning_however_long_ago_the_release_came_out(pypi, run):
    # The same lock must give the same verdict on any day: a release published since is news, not a failure.
    pypi.project("parserlib", {"1.0.0": 400, "1.0.1": 30, "1.1.0": 10})
    code, out, err = run("parserlib==1.0.0")
    assert code == 0
    assert "WARNING: parserlib 1.0.0: behind the latest release, 1.1.0" in err
    assert "(2 newer releases, the first, 1.0.1, 30 days ago)" in err
    assert "FOUND" not in err
    assert "0 of them at exactly their version" in out


def test_a_pin_behind_a_fresh_release_is_a_warning_too(pypi, run):
    pypi.project("parserlib", {"1.0.0": 400, "1.0.1": 2})
    code, out, err = run("parserlib==1.0.0")
    assert code == 0
    assert "WARNING: parserlib 1.0.0: behind the latest release, 1.0.1" in err
    assert "fails after" not in err


def test_a_known_advisory_against_a_pin_behind_the_latest_still_fails(pypi, run):
    pypi.project(
        "parserlib",
        {"1.0.0": 400, "1.1.0": 300},
        vulnerabilities=[advisory("GHSA-old", fixed_in=("1.2.0",))],
    )
    code, _, err = run("parserlib==1.0.0")
    assert code == 1
    assert "FOUND: parserlib 1.0.0: GHSA-old" in err


def test_the_per_version_answer_is_used_where_pypi_serves_it(pypi, run):
    pypi.project("parserlib", {"1.0.0": 400, "1.1.0": 30})
    pypi.routes["/pypi/parserlib/1.0.0/json"] = (
        200,
        {"vulnerabilities": [advisory("GHSA-old", fixed_in=["1.1.0"])]},
    )
    code, _, err = run("parserlib==1.0.0")
    assert code == 1
    assert "FOUND: parserlib 1.0.0: GHSA-old" in err and "fixed in: 1.1.0" in err
    assert "behind" not in err  # the exact answer makes the guess about newer releases unnecessary


def test_an_advisory_open_on_the_latest_release_counts_against_an_older_pin_unless_fixed_in_its_series(
    audit, pypi, run, monkeypatch
):
    monkeypatch.setattr(audit, "HELD_BACK", {"webframework": ("==4.2.*", "the LTS")})
    fixed_in_our_series = advisory("GHSA-fixed", fixed_in=["4.2.6", "5.1.1"])
    not_fixed_for_us = advisory("GHSA-open", fixed_in=["5.1.1"])
    pypi.project(
        "webframework",
        {"4.2.5": 60, "4.2.6": 20, "5.1.0": 20},
        vulnerabilities=[fixed_in_our_series, not_fixed_for_us],
    )
    code, out, err = run("webframework==4.2.6")
    assert code == 1
    assert "GHSA-open" in err and "GHSA-fixed" not in err
    assert "held back below 5.1.0 (==4.2.*; newest release of that series): the LTS" in out


def test_a_held_back_pin_behind_the_newest_release_of_its_series_is_warned_about(
    audit, pypi, run, monkeypatch
):
    monkeypatch.setattr(audit, "HELD_BACK", {"webframework": ("==4.2.*", "the LTS")})
    pypi.project("webframework", {"4.2.5": 60, "4.2.6": 20, "5.1.0": 300})
    code, out, err = run("webframework==4.2.6")
    assert code == 0 and "held back below 5.1.0" in out and "WARNING" not in err
    code, _, err = run("webframework==4.2.5")
    assert code == 0
    assert "WARNING: webframework 4.2.5: behind the newest release matching ==4.2.*, 4.2.6" in err


def test_a_package_pypi_does_not_know_is_not_audited(pypi, run):
    pypi.project("parserlib", {"1.2.0": 30})
    code, out, err = run("parserlib==1.2.0", "privatelib==0.1", "parserlib==9.9")
    assert code == 2
    assert "NOT AUDITED: privatelib 0.1: not found on PyPI" in err
    assert "NOT AUDITED: parserlib 9.9: 9.9 is not a release on PyPI" in err
    assert "no known vulnerabilities" not in out


def test_a_pypi_error_is_not_a_pass(audit, pypi, run, monkeypatch):
    monkeypatch.setattr(audit, "ATTEMPTS", 1)
    pypi.routes["/pypi/parserlib/json"] = (503, {"message": "backend down"})
    code, out, err = run("parserlib==1.2.0")
    assert code == 2
    assert "parserlib 1.2.0: PyPI could not be reached" in err and "HTTP 503" in err
    assert "no known vulnerabilities" not in out


def test_an_unreachable_pypi_fails_the_command_loudly(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django==5.2.19\n")
    command = [sys.executable, str(SCRIPT), "--requirements", str(requirements)]
    result = subprocess.run(
        [*command, "--pypi-json-url", f"http://127.0.0.1:{port}/pypi"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "NOT AUDITED: django 5.2.19: PyPI could not be reached" in result.stderr
    assert "dependencies were NOT audited" in result.stderr
    assert "no known vulnerabilities" not in result.stdout


def test_the_lock_is_read_whole_and_a_package_from_elsewhere_is_not_audited(
    audit, pypi, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(audit, "HELD_BACK", {"soupsieve": ("<3", "Python < 3.11.5")})
    lock = tmp_path / "uv.lock"
    lock.write_text(
        """version = 1
requires-python = "==3.11.*"

[[package]]
name = "acuclinic"
version = "0.1.0"
source = { virtual = "." }

[[package]]
name = "Parser_Lib"
version = "1.2.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "soupsieve"
version = "2.10"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version < '3.11.5'"]

[[package]]
name = "soupsieve"
version = "4.1.2"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version >= '3.11.5'"]

[[package]]
name = "forked"
version = "0.3"
source = { git = "https://example.org/forked.git?rev=abc" }
"""
    )
    pinned, elsewhere = audit.locked_packages(lock)
    assert pinned == [("parser-lib", "1.2.0"), ("soupsieve", "2.10"), ("soupsieve", "4.1.2")]
    assert elsewhere == ["forked (git=https://example.org/forked.git?rev=abc)"]

    pypi.project("parser-lib", {"1.2.0": 30})
    pypi.project("soupsieve", {"2.10": 60, "4.1.2": 30})
    assert audit.main(["--lock", str(lock), "--pypi-json-url", pypi.url]) == 2
    out, err = capsys.readouterr()
    assert "NOT AUDITED: forked (git=https://example.org/forked.git?rev=abc): not from a package index" in err
    assert "soupsieve 2.10: held back below 4.1.2" in out
    assert "FOUND" not in err


@pytest.fixture
def real_pypi(audit):
    # What PyPI publishes changes from day to day, so `make test` never asks it (the same commit must get the same
    # verdict on any day); `make audit` runs these with ACUCLINIC_LIVE_AUDIT=1 after auditing the lock.
    if os.environ.get("ACUCLINIC_LIVE_AUDIT") != "1":
        pytest.skip("asks the real PyPI: run by `make audit`, not `make test`")
    try:
        audit.fetch_json(f"{audit.PYPI_JSON_URL}/pip/json")
    except audit.Unreachable as error:
        pytest.skip(f"PyPI is not reachable from here ({error}); the rules are tested above with a fake one")


@pytest.mark.parametrize(
    ("pin", "expected"),
    [
        # Fixed long ago (CVE-2021-31542 and many since): being behind is a warning, the verdict rests on advisories.
        ("Django==3.2.0", "WARNING: django 3.2.0: behind the latest release"),
        # Open on the latest release, no fix planned: reported by its IDs.
        ("ecdsa==0.19.2", "CVE-2024-23342"),
    ],
)
def test_known_vulnerable_pins_are_reported_by_the_real_pypi(
    audit, real_pypi, tmp_path, capsys, pin, expected
):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(pin + "\n")
    code = audit.main(["--requirements", str(requirements)])
    _, err = capsys.readouterr()
    assert code == (1 if "CVE" in expected else 0)
    assert expected in err
