"""Enqueue periodic jobs when they are due: one pass every minute (the `db_worker` then runs them)."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from acuclinic.core.scheduler import enqueue_due_jobs

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue periodic jobs (such as the weekly medical review e-mail) when due. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run a single pass, then exit.")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="Seconds between passes (default 60)."
        )

    def handle(self, *args, once=False, interval=60.0, **options):
        stop = threading.Event()
        if not once:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
        while True:
            try:
                enqueued = enqueue_due_jobs()
            except DatabaseError:
                if once:
                    raise
                logger.exception("scheduler pass failed; trying again at the next pass")
                enqueued = []
            for job, period in enqueued:
                self.stdout.write(f"enqueued {job} for {period}")
            if once:
                break
            close_old_connections()  # between passes, as a request would: drop broken or expired connections
            if stop.wait(interval):
                break
