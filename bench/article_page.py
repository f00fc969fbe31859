"""Benchmark: the article page on production gunicorn, next to the smallest Django view on the same server.

    .venv/bin/python bench/article_page.py [--duration 10] [--connections 8] [--database-url postgres://...]

For each of two servers (the page cache off, then on) it starts the site with ``tests/livesite.LiveSite``
(production settings, DEBUG off, 2 gunicorn sync workers, a fresh demo database: SQLite by default, a
throwaway PostgreSQL database with --database-url), counts the SQL queries of the article request, warms up,
then load-tests on 127.0.0.1, each URL for --duration seconds:

    minimal          /bench/minimal/ (core.views.minimal; BENCHMARK_MINIMAL_VIEW=true adds the URL)
    article          /articles/acupuncture-for-back-pain-research/

It prints requests/s and p99 latency of each, the article/minimal ratio on each server and whether the goal
(cached article >= 80% of the minimal view's throughput) is met. The load generator is ``wrk`` with one
thread (installed with apt-get when missing and possible); otherwise a small asyncio client in this process
that reports the same figures. The machine has 2 cores: client and server share them, so the absolute
figures are lower than on a dedicated server; the ratio is the point.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.livesite import LiveSite  # noqa: E402

ARTICLE_PATH = "/articles/acupuncture-for-back-pain-research/"
MINIMAL_PATH = "/bench/minimal/"
GOAL = 0.80
WORKERS = 2

QUERY_COUNT_SCRIPT = """
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

client = Client(HTTP_HOST="127.0.0.1")
counts = []
for _ in range(3):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(PATH)
    assert response.status_code == 200, response.status_code
    counts.append({"queries": len(ctx.captured_queries), "cache": response.headers.get("X-Page-Cache")})
print("QUERY-COUNTS " + json.dumps(counts))
"""


@dataclass
class Result:
    label: str
    requests_per_second: float
    p99_ms: float
    requests: int
    errors: int
    tool: str


# --- load generators ---------------------------------------------------------------------------------


def ensure_wrk(allow_install: bool) -> str | None:
    found = shutil.which("wrk")
    if found or not allow_install:
        return found
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return None
    print("wrk is missing: installing the Debian package with apt-get …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    # Install; if the package lists are missing or stale, update them once and try again.
    for commands in ([install], [["apt-get", "update", "-q"], install]):
        for command in commands:
            try:
                subprocess.run(command, env=env, capture_output=True, timeout=300, check=False)
            except subprocess.TimeoutExpired:
                return None
        if shutil.which("wrk"):
            return shutil.which("wrk")
    return None


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNIT_MS[unit]


def run_wrk(wrk: str, url: str, *, duration: float, connections: int, label: str) -> Result:
    seconds = max(1, round(duration))
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Result(label, rps, p99, requests, errors, "wrk -t1")


async def _python_load(host: str, port: int, path: str, duration: float, connections: int):
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + duration

    async def one_connection():
        nonlocal errors
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
                writer.write(request)
                await writer.drain()
                data = await asyncio.wait_for(reader.read(-1), 10)  # gunicorn's sync workers close after each
                writer.close()
            except (OSError, TimeoutError):
                errors += 1
                continue
            if not data.startswith(b"HTTP/1.1 200") and not data.startswith(b"HTTP/1.0 200"):
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)

    started = time.monotonic()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return latencies, errors, time.monotonic() - started


def run_python(url: str, *, duration: float, connections: int, label: str) -> Result:
    match = re.fullmatch(r"http://([\d.]+):(\d+)(/.*)", url)
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    latencies, errors, elapsed = asyncio.run(_python_load(host, port, path, duration, connections))
    latencies.sort()
    p99 = latencies[max(0, math.ceil(len(latencies) * 0.99) - 1)] * 1000 if latencies else math.nan
    return Result(label, len(latencies) / elapsed, p99, len(latencies), errors, "python asyncio (1 thread)")


def load(wrk: str | None, url: str, *, duration: float, connections: int, label: str) -> Result:
    if wrk:
        return run_wrk(wrk, url, duration=duration, connections=connections, label=label)
    return run_python(url, duration=duration, connections=connections, label=label)


# --- one server --------------------------------------------------------------------------------------


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace")


def check_server(site: LiveSite, *, cached: bool) -> None:
    status, _headers, body = fetch(site.url + MINIMAL_PATH)
    if status != 200 or body != "ok":
        raise SystemExit(f"{MINIMAL_PATH} answered {status}: is BENCHMARK_MINIMAL_VIEW read by the settings?")
    status, _headers, body = fetch(site.url + "/no-such-page-for-the-benchmark/")
    if status != 404 or "DEBUG = True" in body:
        raise SystemExit("the server does not look like production (DEBUG must be off)")
    states = []
    for _ in range(3):
        status, headers, body = fetch(site.url + ARTICLE_PATH)
        if status != 200 or "Acupuncture" not in body:
            raise SystemExit(f"{ARTICLE_PATH} answered {status}")
        states.append(headers.get("X-Page-Cache"))
    if cached and "hit" not in states:
        raise SystemExit(f"the page cache is on but the article page was never a hit: {states}")
    if not cached and any(states):
        raise SystemExit(f"the page cache is off but the article page says {states}")


def count_queries(site: LiveSite) -> list[dict]:
    script = QUERY_COUNT_SCRIPT.replace("PATH", repr(ARTICLE_PATH))
    output = site.manage("shell", "-c", script, timeout=120).stdout
    line = next(line for line in output.splitlines() if line.startswith("QUERY-COUNTS "))
    return json.loads(line.removeprefix("QUERY-COUNTS "))


def bench_server(args, *, cached: bool, wrk: str | None) -> tuple[list[Result], list[dict]]:
    extra_env = {"BENCHMARK_MINIMAL_VIEW": "true", "PAGE_CACHE": "on" if cached else "off"}
    name = "cache on" if cached else "cache off"
    print(f"\n== server with the page {name}: starting (migrate, demo data) …", flush=True)
    started = time.monotonic()
    with LiveSite(args.database_url, workers=WORKERS, extra_env=extra_env) as site:
        print(
            f"   {site.url} ({site.vendor}, {WORKERS} gunicorn workers, DEBUG off) up in "
            f"{time.monotonic() - started:.0f} s",
            flush=True,
        )
        check_server(site, cached=cached)
        queries = count_queries(site)
        results = []
        for kind, path in (("minimal view", MINIMAL_PATH), ("article page", ARTICLE_PATH)):
            label = f"{kind} ({name})"
            url = site.url + path
            if args.warmup:
                load(wrk, url, duration=args.warmup, connections=args.connections, label="warm-up")
            result = load(wrk, url, duration=args.duration, connections=args.connections, label=label)
            results.append(result)
            print(
                f"   {label:<28} {result.requests_per_second:9.1f} req/s   p99 {result.p99_ms:8.2f} ms   "
                f"{result.requests} requests, {result.errors} errors",
                flush=True,
            )
        if cached:
            _status, headers, _body = fetch(site.url + ARTICLE_PATH)
            if headers.get("X-Page-Cache") != "hit":
                print("   warning: after the run the article page was not a cache hit", flush=True)
    return results, queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per URL (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per URL (default 3)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--database-url", help="a postgres:// server URL; a throwaway database is made on it")
    parser.add_argument("--load-generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    args = parser.parse_args()
    if not 1 <= args.duration <= 600 or not 0 <= args.warmup <= 120 or not 1 <= args.connections <= 512:
        parser.error("--duration 1..600, --warmup 0..120, --connections 1..512")

    wrk = None
    if args.load_generator != "python":
        wrk = ensure_wrk(allow_install=not args.no_install)
        if wrk is None and args.load_generator == "wrk":
            raise SystemExit("wrk is not installed and could not be installed")
    print(
        f"load generator: {'wrk, 1 thread' if wrk else 'python asyncio, 1 thread (wrk unavailable)'}; "
        f"{args.connections} connections; {args.duration:g} s per URL after {args.warmup:g} s warm-up; "
        f"{os.cpu_count()} CPU cores shared by the client and the {WORKERS} gunicorn workers"
    )

    uncached, uncached_queries = bench_server(args, cached=False, wrk=wrk)
    cached, cached_queries = bench_server(args, cached=True, wrk=wrk)
    minimal_off, article_off = uncached
    minimal_on, article_on = cached

    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"\n== results ({database}, {WORKERS} gunicorn sync workers, DEBUG off, {cached[0].tool}, "
        f"{args.connections} connections, {args.duration:g} s each)"
    )
    print(f"   {'':<30} {'req/s':>9} {'p99 ms':>9} {'vs minimal':>11}")
    for result, minimal in (
        (minimal_off, minimal_off),
        (article_off, minimal_off),
        (minimal_on, minimal_on),
        (article_on, minimal_on),
    ):
        ratio = result.requests_per_second / minimal.requests_per_second
        print(f"   {result.label:<30} {result.requests_per_second:9.1f} {result.p99_ms:9.2f} {ratio:10.0%}")
    print(
        f"   SQL queries per article request, page cache off: {[q['queries'] for q in uncached_queries]} "
        "(first request of a fresh process, then two more)"
    )
    print(
        f"   SQL queries per article request, page cache on:  {[q['queries'] for q in cached_queries]} "
        f"(X-Page-Cache: {[q['cache'] for q in cached_queries]})"
    )
    ratio = article_on.requests_per_second / minimal_on.requests_per_second
    print(
        f"   cached article / minimal view on the same server: {ratio:.0%} "
        f"(goal {GOAL:.0%}: {'MET' if ratio >= GOAL else 'NOT MET'})"
    )
    uncached_ratio = article_off.requests_per_second / minimal_off.requests_per_second
    speed_up = article_on.requests_per_second / article_off.requests_per_second
    print(f"   uncached article / minimal view: {uncached_ratio:.0%}; cached/uncached: {speed_up:.1f}x")
    errors = sum(r.errors for r in (*uncached, *cached))
    if errors:
        print(f"   warning: {errors} failed requests in total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
