# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test test-calendar lint typecheck unit integration infra e2e browser synth bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,infra,dev,providers,signin]'
	touch $(STAMP)

## Run the whole system locally on an embedded AWS, with demo data.
demo: $(STAMP)
	$(VENV)/bin/spendwatch local --demo

## Run every check: lint, types, unit, integration, infrastructure and end-to-end tests; then the tests that
## touch dates again at 00:30 UTC on the 1st of next month, so the suite cannot pass on some days only.
test: $(STAMP) lint typecheck browser
	$(VENV)/bin/pytest -n 3 --dist loadfile
	$(VENV)/bin/pytest -n 3 --dist loadfile -m calendar --now=$$($(PY) tools/calendar_moments.py first-of-next-month)

## The unit, integration and end-to-end tiers (not the browser test) at each edge of the calendar: the 1st of next
## month 00:30 UTC, 2028-02-29 12:00, 31 December 23:30 and next Monday 00:05.
test-calendar: $(STAMP)
	@for moment in $$($(PY) tools/calendar_moments.py all); do \
		echo "== pytest --now=$$moment"; \
		$(VENV)/bin/pytest -n 3 --dist loadfile -q tests/unit tests/integration tests/e2e \
			--ignore=tests/e2e/test_dashboard.py --now=$$moment || exit 1; \
	done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit integration infra e2e: $(STAMP)
	$(VENV)/bin/pytest tests/$@

e2e: browser

## Headless Chromium and its driver for the dashboard's end-to-end test: Debian's packages, each installed only
## when missing (the browser is never downloaded from anywhere else), waiting for another apt or dpkg to finish.
browser:
	@missing=""; \
	test -x /usr/bin/chromium || missing="chromium"; \
	test -x /usr/bin/chromedriver || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then echo "installing$$missing"; tools/apt-install $$missing; fi

## Synthesise the CloudFormation templates and assets into cdk.out (no AWS account, no Docker).
synth: $(STAMP)
	$(PY) infra/cdk_app.py

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench

clean:
	rm -rf cdk.out .build $(VENV)
