# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest clean tiny-model screenshot bench soak

# RapidOCR is installed without its opencv-python requirement (pyproject.toml says why; the rest
# of its requirements are the app's), and past its Requires-Python, which stops at 3.12 for no
# reason in its code: pure Python over ONNX Runtime.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps --ignore-requires-python -c constraints.txt \
		rapidocr_onnxruntime
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

# Every benchmark in bench/, then one table of same-run ratios (not part of `make test`:
# the full sizes take the better part of an hour; BENCH_ARGS=--quick takes minutes).
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/all.py $(BENCH_ARGS)

# Kill -9 rounds at chosen moments of `index` and `watch`, and storms of changes under `watch`,
# each ending in every invariant of tests/invariants.py (tests/soak.py; not part of `make test`,
# which runs a few rounds: about ten minutes on 2 cores). SOAK_ARGS="--seed N" repeats a run.
soak: $(STAMP)
	$(BIN)/python tests/soak.py $(SOAK_ARGS)

# Regenerates mediafind/assets/tiny-clip (a few minutes on 2 CPU cores).
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
	xvfb-run -a -s "-screen 0 2800x1800x24" $(BIN)/python packaging/screenshots.py \
		--out build/screenshots --scale 2

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache

# The desktop packages (packaging/README.md). Not part of `make test`: several minutes each.
# `package` freezes the app from a CPU-only venv (build/package-venv) into dist/mediafind/ and
# wraps it as dist/mediafind-VERSION-linux-ARCH.tar.gz and a .deb; `package-check` runs them.
.PHONY: package package-check
PACKAGE_VENV := build/package-venv

$(PACKAGE_VENV)/.installed-stamp: pyproject.toml constraints.txt packaging/build-venv.sh
	packaging/build-venv.sh $(PACKAGE_VENV)
	touch $@

package: $(PACKAGE_VENV)/.installed-stamp
	$(PACKAGE_VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller packaging/mediafind.spec
	packaging/linux/make-dist.sh dist

package-check:
	packaging/linux/install-build-deps.sh
	packaging/linux/check.sh dist
