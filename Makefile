# Two commands on a fresh machine:
#   make ask Q="When did Lithuania withdraw from the Convention on Cluster Munitions?"
#   make test
# Both create the virtual environment and install everything first (once). After that (or after plain
# `make`), the command line is .venv/bin/citebot.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CITEBOT := $(VENV)/bin/citebot
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TRANSFORMERS_VERBOSITY := error
export TOKENIZERS_PARALLELISM := false

Q ?= When did Lithuania withdraw from the Convention on Cluster Munitions?

.PHONY: setup ask test eval models bench bench-scale reindex run readme-sample clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

ask: setup
	@$(CITEBOT) ask "$(Q)"

test: setup
	$(PY) -m pytest -q

# Quality on every shipped question set (benchmarks/questions/), beside plain baselines from the same run.
eval: setup
	$(PY) benchmarks/quality.py

# Refit the answer models from ../shared/eval/squad/train/ (about 2 hours on 2 cores; CI never does this):
# fine-tune the reader, export it to int8 ONNX in models/, then fit the linear models into models/answer-model.json.
models: setup
	$(PY) -m training.train_reader
	$(PY) -m training.export_reader
	$(PY) -m training.fit

reindex: setup
	$(CITEBOT) reindex

run: setup
	$(CITEBOT) run

# The sample outputs in README.md, rewritten with what the commands print now (checked by a test).
readme-sample: setup
	$(PY) scripts/readme_sample.py

bench: setup
	$(PY) benchmarks/bench_core.py

bench-scale: setup
	$(PY) benchmarks/bench_scale.py

clean:
	rm -rf $(VENV) var
