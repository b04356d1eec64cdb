# Sanad: everything installs itself. `make run` for the service, `make test` for the suite.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
BENCH_ARGS ?=
MYPY_ARGS ?=

.PHONY: help setup run test check lock fmt bench bench-locker bench-intake bench-levels bench-reads services-start services-stop services-status clean

help:
	@echo "make run              install runtime deps, init the DB and dev PKI, seed the demo, serve (with the background work)"
	@echo "make test             install test deps, start PostgreSQL + MinIO, run pytest (PYTEST_ARGS=...)"
	@echo "make check            ruff format --check, ruff check, mypy, lint-imports (the package graph), lock up to date, pip-audit"
	@echo "make lock             regenerate requirements*.lock (hashed) from pyproject.toml after changing a dependency"
	@echo "make fmt              ruff format + ruff check --fix"
	@echo "make bench            python -m bench (BENCH_ARGS=...)"
	@echo "make bench-locker     python -m bench locker: listing and downloads at 10M documents"
	@echo "make bench-intake     python -m bench intake: submissions, approvals, pendency at 1M applications"
	@echo "make bench-levels     python -m bench levels: PAdES B-B/B-T/B-LT/B-LTA cost per document"
	@echo "make bench-reads      python -m bench reads: verification, trust and locker reads under wrk, beside /health, then at set rates under vegeta"
	@echo "make services-start | services-stop | services-status"
	@echo "make clean            stop test services, remove var/"

setup:
	bash scripts/setup.sh test

run:
	bash scripts/setup.sh runtime
	mkdir -p var
	$(BIN)/sanad init
	$(BIN)/sanad demo-seed
	# On the embedded deployment the server also runs the background work: batches (on a
	# process pool), notices, escalations, archive refresh. With PostgreSQL: `sanad worker`.
	$(BIN)/sanad serve

# pytest's exit status fails the target (make itself then exits 2).
test:
	bash scripts/setup.sh test
	bash scripts/services.sh start
	eval "$$(bash scripts/services.sh env)"; \
	SANAD_REQUIRE_SERVICES=1 $(BIN)/pytest $(PYTEST_ARGS)

check:
	bash scripts/setup.sh python
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy $(MYPY_ARGS)
	$(BIN)/lint-imports --no-cache --no-logo
	bash scripts/lock.sh check
	bash scripts/audit.sh

# Regenerate the hashed lock files from pyproject.toml's pins (after adding a dependency).
lock:
	bash scripts/setup.sh python
	bash scripts/lock.sh

fmt:
	bash scripts/setup.sh python
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench:
	bash scripts/setup.sh runtime
	$(BIN)/python -m bench $(BENCH_ARGS)

# Starts PostgreSQL and MinIO if needed; seeds sanad_bench_locker_10000000 once (~5 min, ~12 GiB).
bench-locker:
	bash scripts/setup.sh runtime
	$(BIN)/python -m bench locker $(BENCH_ARGS)

# Starts PostgreSQL and MinIO if needed; seeds sanad_bench_intake once (1M applications).
bench-levels:
	bash scripts/setup.sh runtime
	$(BIN)/python -m bench levels $(BENCH_ARGS)

# Installs wrk (Debian) if needed; a fresh deployment per run, removed after.
bench-reads:
	bash scripts/setup.sh bench
	$(BIN)/python -m bench reads $(BENCH_ARGS)

bench-intake:
	bash scripts/setup.sh runtime
	$(BIN)/python -m bench intake $(BENCH_ARGS)

services-start:
	bash scripts/setup.sh test
	bash scripts/services.sh start

services-stop:
	bash scripts/services.sh stop

services-status:
	bash scripts/services.sh status

clean:
	bash scripts/services.sh clean
	rm -rf var
