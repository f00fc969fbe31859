# The two commands of the README. Everything they need, they install.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help run test lint bench setup audit lock-refresh cluster cluster-stop bench-cluster

help:
	@echo "make run    - install, migrate, load demo content, serve http://127.0.0.1:8000 with the background worker"
	@echo "make test   - every test, on SQLite and (when reachable) PostgreSQL, browser tests included"
	@echo "make lint   - ruff"
	@echo "make bench  - benchmarks under bench/"
	@echo "make audit  - the locked dependencies against PyPI's advisories today (weekly; not part of make test)"
	@echo "make lock-refresh - upgrade every locked package within pyproject's ranges, then audit"
	@echo "make cluster - PostgreSQL primary + replica, Redis, haproxy + 3 app processes, 2 workers, 2 schedulers"
	@echo "make cluster-stop - stop exactly what make cluster started"
	@echo "make bench-cluster - locust: one app process against the cluster, then the outcome checks"

run:
	@bin/run

test:
	@bin/test

audit:
	@bin/ensure-python && .venv/bin/python bin/audit-dependencies
	@ACUCLINIC_LIVE_AUDIT=1 .venv/bin/pytest -q -p no:cacheprovider tests/security/test_dependency_audit.py

lock-refresh:
	@bin/ensure-python && PATH="$$HOME/.local/bin:$$PATH" uv lock --upgrade && bin/ensure-python
	@.venv/bin/python bin/audit-dependencies

lint:
	@bin/ensure-python && .venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	@bin/ensure-python && .venv/bin/python bench/pages.py
	@bin/ensure-test-tools && .venv/bin/python bench/article_page.py
	@.venv/bin/python bench/request_submission.py
	@.venv/bin/python bench/slot_search.py
	@.venv/bin/python bench/calendar.py
	@.venv/bin/python bench/intake_submission.py

cluster:
	@bin/cluster start

cluster-stop:
	@bin/cluster stop

bench-cluster:
	@bin/cluster start && .venv/bin/python bench/cluster_load.py
