# One command sets up and runs the main job (make demo); one runs the tests (make test).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test model benchmark clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,baselines]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/spplus-nlp score corpora/sample/export_sample.csv -o build/demo_scored.jsonl --quiet
	$(PY) -m spplus_nlp.report build/demo_scored.jsonl

test: install
	$(PY) -m pytest -q

model: install
	$(VENV)/bin/spplus-nlp train --out models/fast

benchmark: install
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build .pytest_cache
