# Hearth: `make run` opens the companion, `make test` runs the whole test suite.
# Both create .venv on first use. Python 3.11+ is needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Without CUDA, torch must be installed before the train extra, or pip pulls several GB of
# CUDA packages. On a machine whose index has no CPU build, point TORCH_INDEX at
# https://download.pytorch.org/whl/cpu.
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=

.PHONY: run test install install-dev sources lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Hearth needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)

# The runtime only: chatting never needs torch.
install: $(BIN)/python
	$(BIN)/pip install -q -e .

run: install
	$(BIN)/hearth

install-dev: $(BIN)/python
	@if command -v nvidia-smi >/dev/null 2>&1; then \
		echo "CUDA found: torch comes with the train extra"; \
	else \
		$(BIN)/pip install -q $(TORCH_SPEC) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)); \
	fi
	$(BIN)/pip install -q -e '.[train,dev]'

# llama.cpp's converter sources for the installed llama-cpp-python (a one-time download via pip).
sources: install-dev
	$(BIN)/hearth convert --fetch-sources

# pytest exits 5 when it collected no tests: that is a failure too, not a green run.
test: sources
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; \
	exit $$rc

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
