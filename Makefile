# Two commands on a fresh machine:
#   make ask Q="When did Lithuania withdraw from the Convention on Cluster Munitions?"
#   make test
# Both create the virtual environment and install everything first (once).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TRANSFORMERS_VERBOSITY := error
export TOKENIZERS_PARALLELISM := false

Q ?= When did Lithuania withdraw from the Convention on Cluster Munitions?

.PHONY: setup ask test eval bench bench-scale reindex run clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

ask: setup
	$(PY) -m bot ask "$(Q)"

test: setup
	$(PY) -m pytest -q

eval: setup
	$(PY) -m bot eval ../shared/eval/dev_questions.jsonl

reindex: setup
	$(PY) -m bot reindex

run: setup
	$(PY) -m bot run

bench: setup
	$(PY) benchmarks/bench_core.py

bench-scale: setup
	$(PY) benchmarks/bench_scale.py

clean:
	rm -rf $(VENV) var
