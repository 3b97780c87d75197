# cpn_mm: every target sets up the environment first (tools/setup_env.sh, seconds when done).
# STACK: requirements/stacks/<STACK>.txt, 'pinned' (default) or 'torch2.1'; each has its own venv
STACK ?= pinned
VENV ?= $(if $(filter pinned,$(STACK)),.venv,.venv-$(STACK))
PY := $(VENV)/bin/python
export VENV STACK

.PHONY: setup demo test lint bench

setup:
	@bash tools/setup_env.sh

# The main job: train + evaluate the embedded COCO sample on CPU, draw the predictions.
demo: setup
	$(PY) tools/run_sample.py

# The test suite (what CI runs).
test: setup
	$(PY) -m pytest tests -q -rs -p no:cacheprovider --durations=25 $(PYTEST_ARGS)

# Style: pycodestyle/pyflakes (ruff.toml) and MMPose's import order (.isort.cfg); CI runs it.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/isort --check-only --diff .

# Side-by-side speed figures against MMPose's own modules.
bench: setup
	$(PY) benchmarks/run.py $(BENCH_ARGS)
