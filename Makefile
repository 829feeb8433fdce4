# Everything set-up needs, from a fresh clone: `make run` opens the explorer,
# `make test` runs the tests. Both create .venv and install ParLens into it.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.parlens-installed

.PHONY: setup run test bench screenshots clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU build of PyTorch first, so nothing pulls the multi-GB CUDA wheels.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

run: setup
	$(VENV)/bin/streamlit run app.py

test: setup
	$(PY) -m pytest -q

bench: setup
	$(VENV)/bin/parlens bench

# a PNG of every explorer page over DB (default: the bundled seeds' store) into docs/screenshots
screenshots: setup
	$(PY) -m parlens.browser $(if $(DB),--db $(DB)) --out docs/screenshots

clean:
	rm -rf $(VENV) build *.egg-info
