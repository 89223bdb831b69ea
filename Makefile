# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest clean tiny-model screenshot

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/mediafind $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mediafind tests bench
	$(BIN)/ruff format --check mediafind tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# Regenerates tests/assets/tiny-clip (a few minutes on 2 CPU cores).
tiny-model: $(STAMP)
	$(BIN)/python tests/assets/make_tiny_clip.py

# Screenshots of the window (light and dark) into build/screenshots/, under a virtual X
# server; packaging/install-screenshot-deps.sh installs Xvfb and Qt's X libraries if missing.
screenshot: $(STAMP)
	packaging/install-screenshot-deps.sh
	for theme in light dark; do \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python packaging/screenshots.py \
			--out build/screenshots --theme $$theme || exit 1; \
	done

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
