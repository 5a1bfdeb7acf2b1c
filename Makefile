VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCALDISCORD := packages/localdiscord
LOCALGITHUB := packages/localgithub
LOCALMODEL := packages/localmodel
LOCALTELEGRAM := packages/localtelegram
LOCALSLACK := packages/localslack

.PHONY: demo test lint typecheck wheel-check bench agents clean

# The venv's Python: the system's python3 where it is 3.11 or later, else the first python3 on
# the PATH. Debian 12's python3.11 runs pure Python in 0.80 of the CPU time of pyenv's default
# build (shared libpython, no --enable-optimizations) and the suite in 0.92 of its time
# (bench/python_speed.py compares two interpreters; docs/performance.md).
VENV_PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; \
	done)

# swarm, the local Discord (its `demo` extra), GitHub, model server and Slack, all editable,
# with the dev tools.
$(STAMP): pyproject.toml $(LOCALDISCORD)/pyproject.toml $(LOCALGITHUB)/pyproject.toml \
		$(LOCALMODEL)/pyproject.toml $(LOCALTELEGRAM)/pyproject.toml $(LOCALSLACK)/pyproject.toml
	$(VENV_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '$(LOCALDISCORD)[test]' -e '$(LOCALGITHUB)[test]' \
		-e '$(LOCALMODEL)[test]' -e '$(LOCALTELEGRAM)[test]' -e '$(LOCALSLACK)[test]' \
		-e '.[dev,demo]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/swarm demo

# The type check runs beside the tests (its output is printed after theirs, under a header);
# the target fails when either fails. TEST_WORKERS=0: the tests in this process, no xdist.
# Bytecode is written during the tests even where PYTHONDONTWRITEBYTECODE is set (as on the
# machines this runs on): else each `swarm` process a test starts compiles what it imports
# again (0.85-1.0 s for `swarm task list` against 0.43 s), and each worker rewrites every test
# module's asserts (tests/cli: 123 s against 175 s). Two workers, the team's measure (the
# suite's 15 minutes). Three on two cores are faster (859 and 829 s against 1,026 s, 2026-11-30);
# the decided key they once typed twice (tests/apps/test_typing_killed) was a key left down
# past a kill, fixed in automation/desktop/held_keys.py.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	@log=$$(mktemp); \
	nice -n 19 $(MAKE) --no-print-directory typecheck >"$$log" 2>&1 & checker=$$!; \
	echo "$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup  (make typecheck runs beside it, niced)"; \
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup; \
	tests=$$?; \
	wait $$checker; types=$$?; \
	echo "--- make typecheck (exit $$types) ---"; cat "$$log"; rm -f "$$log"; \
	[ $$tests -eq 0 ] && [ $$types -eq 0 ]

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy
	# packages/localgithub, localmodel and localslack each on its own (their tests' conftest
	# and modules would clash with localdiscord's)
	cd $(LOCALGITHUB) && MYPYPATH=src:tests $(abspath $(VENV))/bin/mypy --strict \
		--explicit-package-bases src tests
	cd $(LOCALMODEL) && MYPYPATH=src:tests $(abspath $(VENV))/bin/mypy --strict \
		--explicit-package-bases src tests
	cd $(LOCALTELEGRAM) && MYPYPATH=src:tests $(abspath $(VENV))/bin/mypy --strict \
		--explicit-package-bases src tests
	cd $(LOCALSLACK) && MYPYPATH=src:tests $(abspath $(VENV))/bin/mypy --strict \
		--explicit-package-bases src tests

# The wheel is the product: build it, install it in a fresh venv, run it from there.
wheel-check: $(STAMP)
	.ci/wheel-check

# The real agent CLIs the live tests run (tests/agents/test_*_live.py), at their pinned
# versions, into .cache/agents (never globally); what is there at its version is kept.
agents:
	python3 tools/install_agents.py

bench: $(STAMP)
	$(PY) bench/scheduler.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache build dist
