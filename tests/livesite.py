"""Run the site the way production does, on a throwaway database, for browser tests and benchmarks.

    with LiveSite() as site:                        # SQLite in a temporary directory
        urllib.request.urlopen(site.url + "/health/")
    with LiveSite("postgres://postgres@127.0.0.1:5432/acuclinic", workers=4) as site:
        site.manage("shell", "-c", "...")           # more manage.py commands against the same database

The launcher makes a temporary ACUCLINIC_VAR_DIR (SQLite database, media, collected static), runs the
production settings with a random SECRET_KEY and plain HTTP on 127.0.0.1, migrates, collects static files,
loads the demo content, runs the task worker once so the queued search-index updates are done, then serves the
site with gunicorn and waits for /health/. With a PostgreSQL URL it creates a fresh database
``acuclinic_live_<random>`` on that server and drops it afterwards. Everything is stopped and removed on exit,
also when start-up fails.

Only the standard library is needed (plus psycopg for PostgreSQL): scripts can import it without pytest.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Settings that would otherwise leak in from the caller's environment (e.g. bin/test exports DATABASE_URL).
_OVERRIDDEN = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "ACUCLINIC_VAR_DIR", "SECRET_KEY", "DEBUG"}


class LiveSiteError(RuntimeError):
    """The site could not be set up or did not come up."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


class LiveSite:
    """Context manager around a production-configured gunicorn serving a fresh copy of the demo site."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        workers: int = 2,
        host: str = "127.0.0.1",
        python: str | None = None,
        extra_env: dict[str, str] | None = None,
        gunicorn_args: list[str] | None = None,
        startup_timeout: float = 60.0,
        command_timeout: float = 600.0,
        keep_var_dir: bool = False,
    ):
        if database_url is not None and urlsplit(database_url).scheme not in ("postgres", "postgresql"):
            raise ValueError("database_url must be a postgres:// URL (leave it out for SQLite)")
        self.server_database_url = database_url
        self.workers = workers
        self.host = host
        self.python = python or sys.executable
        self.extra_env = dict(extra_env or {})
        self.gunicorn_args = list(gunicorn_args or [])
        self.startup_timeout = startup_timeout
        self.command_timeout = command_timeout
        self.keep_var_dir = keep_var_dir

        self.var_dir: Path | None = None
        self.database_name: str | None = None  # the throwaway PostgreSQL database, when there is one
        self.database_url: str | None = None  # what the site actually uses
        self.port: int | None = None
        self.url: str = ""
        self.env: dict[str, str] = {}
        self.log_path: Path | None = None
        self._server: subprocess.Popen | None = None
        self._log_file = None
        self._started = False

    # --- public ---------------------------------------------------------------------------------------------
    @property
    def vendor(self) -> str:
        return "postgresql" if self.server_database_url else "sqlite"

    def __enter__(self) -> LiveSite:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> LiveSite:
        if self._started:
            raise LiveSiteError("this LiveSite is already running")
        self._started = True
        atexit.register(self.stop)
        try:
            self.var_dir = Path(tempfile.mkdtemp(prefix="acuclinic-live-"))
            self.log_path = self.var_dir / "server.log"
            self.database_url = self._create_database() if self.server_database_url else None
            self.port = free_port(self.host)
            self.url = f"http://{self.host}:{self.port}"
            self.env = self._build_env()
            self._prepare()
            self._serve()
        except BaseException:
            self.stop()
            raise
        return self

    def manage(self, *args: str, timeout: float | None = None, check=True) -> subprocess.CompletedProcess:
        """Run ``manage.py <args>`` against this site's database and settings; output is captured."""
        result = subprocess.run(
            [self.python, str(PROJECT_DIR / "manage.py"), *args],
            cwd=PROJECT_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout or self.command_timeout,
        )
        if check and result.returncode != 0:
            raise LiveSiteError(
                f"manage.py {' '.join(args)} failed with exit code {result.returncode}:\n"
                f"{_tail(result.stdout)}\n{_tail(result.stderr)}"
            )
        return result

    def server_log(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")
        return ""

    def stop(self) -> None:
        """Stop gunicorn, drop the throwaway database, remove the temporary directory. Safe to call twice."""
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        self._stop_server()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.database_name:
            self._drop_database()
        if self.var_dir is not None and not self.keep_var_dir:
            shutil.rmtree(self.var_dir, ignore_errors=True)
            self.var_dir = None

    # --- set-up steps ---------------------------------------------------------------------------------------
    def _build_env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in _OVERRIDDEN}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "acuclinic.settings.production",
                "ACUCLINIC_VAR_DIR": str(self.var_dir),
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SECURE_SSL_REDIRECT": "false",
                "BEHIND_TLS_PROXY": "false",
                "SESSION_COOKIE_SECURE": "false",
                "CSRF_COOKIE_SECURE": "false",
                "SECURE_HSTS_SECONDS": "0",
                "SERVE_MEDIA": "true",
                "SITE_URL": self.url,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    def _prepare(self) -> None:
        # collectstatic does not touch the database: it runs alongside the migrations.
        static_log = self.var_dir / "collectstatic.log"
        with open(static_log, "w") as out:
            collect = subprocess.Popen(
                [self.python, str(PROJECT_DIR / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
                cwd=PROJECT_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                self.manage("migrate", "--noinput", "-v", "0")
                collect.wait(timeout=self.command_timeout)
            finally:
                if collect.poll() is None:
                    collect.kill()
                    collect.wait()
        if collect.returncode != 0:
            raise LiveSiteError(f"collectstatic failed:\n{_tail(static_log.read_text(errors='replace'))}")
        self.manage("load_initial_data")
        # Wagtail updates its search index through django-tasks: run everything queued so far, then exit.
        self.manage("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "-v", "0")

    def _serve(self) -> None:
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        for attempt in range(3):
            if attempt:  # the port was taken between choosing it and binding it: try another one
                self.port = free_port(self.host)
                self.url = f"http://{self.host}:{self.port}"
                self.env["SITE_URL"] = self.url
            self._server = subprocess.Popen(
                [
                    self.python,
                    "-m",
                    "gunicorn",
                    "acuclinic.wsgi:application",
                    "--workers",
                    str(self.workers),
                    "--bind",
                    f"{self.host}:{self.port}",
                    "--chdir",
                    str(PROJECT_DIR),
                    "--no-control-socket",
                    "--graceful-timeout",
                    "5",
                    "--timeout",
                    "60",
                    *self.gunicorn_args,
                ],
                cwd=PROJECT_DIR,
                env=self.env,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: gunicorn and its workers stop together
            )
            if self._wait_until_healthy():
                return
            log = self.server_log()
            self._stop_server()
            if "in use" not in log.lower():
                break
        raise LiveSiteError(f"gunicorn did not answer /health/ at {self.url}:\n{_tail(self.server_log())}")

    def _wait_until_healthy(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._server.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/health/", timeout=5) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)
        return False

    def _stop_server(self) -> None:
        server, self._server = self._server, None
        if server is None or server.poll() is not None:
            return
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)  # the group this launcher created for gunicorn
            server.wait()

    # --- throwaway PostgreSQL database ----------------------------------------------------------------------
    def _maintenance_url(self) -> str:
        parts = urlsplit(self.server_database_url)
        return urlunsplit(parts._replace(path="/postgres"))

    def _create_database(self) -> str:
        import psycopg
        from psycopg import sql

        self.database_name = f"acuclinic_live_{secrets.token_hex(6)}"
        with psycopg.connect(self._maintenance_url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database_name)))
        parts = urlsplit(self.server_database_url)
        return urlunsplit(parts._replace(path=f"/{self.database_name}"))

    def _drop_database(self) -> None:
        import psycopg
        from psycopg import sql

        name, self.database_name = self.database_name, None
        for attempt in range(5):
            try:
                with psycopg.connect(self._maintenance_url(), autocommit=True, connect_timeout=10) as conn:
                    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                    conn.execute(drop.format(sql.Identifier(name)))
                return
            except psycopg.Error as exc:
                if attempt == 4:
                    print(f"LiveSite: could not drop database {name}: {exc}", file=sys.stderr)
                time.sleep(0.5)


if __name__ == "__main__":  # python -m tests.livesite [postgres-url]: serve until Ctrl-C or SIGTERM
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # clean up on SIGTERM too (exit runs __exit__)
    with LiveSite(sys.argv[1] if len(sys.argv) > 1 else None) as site:
        print(f"Serving {site.url}/ from {site.var_dir} ({site.vendor}); Ctrl-C stops it.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
