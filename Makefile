# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lock install stop-db clean-data fuzz audit

$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py run_platform

# The tests start the embedded PostgreSQL when it is not running; it is stopped again at the end
# unless another process (make run, another test run, a shell) is connected to it then.
test: $(STAMP)
	@# mypy's Django plugin loads the settings, which start the embedded PostgreSQL: look before anything runs.
	@db_was_running=$$($(BIN)/python -c "from platform_core.db import embedded_running; print(int(embedded_running()))"); \
	status=0; \
	{ echo "ruff check ." && $(BIN)/ruff check . && \
	  echo "lint-imports" && $(BIN)/lint-imports && \
	  echo "mypy" && $(BIN)/mypy && \
	  echo "pytest $(PYTEST_ARGS)" && $(BIN)/python -m pytest $(PYTEST_ARGS); } || status=$$?; \
	if [ "$$db_was_running" = 0 ]; then \
		$(BIN)/python -c "from platform_core.db import embedded_running, embedded_stop_unless_in_use as stop; embedded_running() and print(stop())"; \
	fi; \
	exit $$status

# Regenerate the lock after editing pyproject.toml (needs network access to PyPI).
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

stop-db: $(STAMP)
	$(BIN)/python -c "from platform_core.db import embedded_stop; print('stopped' if embedded_stop() else 'not running')"

clean-data: stop-db
	rm -rf .data

# The API fuzzing and property tests with many more examples than `make test` runs (about six minutes).
fuzz: $(STAMP)
	$(BIN)/python -m pytest tests/fuzz --hypothesis-profile=fuzz $(PYTEST_ARGS)

# Known vulnerabilities in the locked dependencies (asks PyPI's advisory data; needs network access).
audit: $(STAMP)
	$(BIN)/pip-audit --requirement requirements.lock --require-hashes --disable-pip --progress-spinner off
