# SpectraMind: every set-up step is here, so a fresh machine with Python 3.11 needs only
#   make demo   - create the environment if missing, then run the main job on the embedded simulated default
#   make test   - create the environment if missing, then run the whole test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# the environment is rebuilt when the pinned requirements or pyproject.toml change
STAMP := $(VENV)/.installed-$(shell cat requirements/lock.txt pyproject.toml | sha256sum | cut -c1-16)

.PHONY: venv demo test docs selftest clean-venv benchmarks

venv: $(STAMP)

$(STAMP): requirements/lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# torch first and explicitly: the CPU wheel, so nothing pulls a multi-GB CUDA build
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -r requirements/lock.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: venv
	$(BIN)/spectramind demo

selftest: venv
	$(BIN)/spectramind selftest --deep

test: venv
	@bash tools/run_tests.sh

docs: venv
	$(BIN)/python tools/build_docs.py

benchmarks: venv
	@echo "see BENCHMARKS.md for each benchmark's command"

clean-venv:
	rm -rf $(VENV)
