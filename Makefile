# One-command setup and run. `make run` (main job) and `make test` are the README's Quick start.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.saltbench-installed
# An unpinned torch pulls multi-GB CUDA builds; 2.13.0 is served as a CPU wheel here.
TORCH_PIN ?= torch==2.13.0
# jax: Keras on JAX (CPU jaxlib); onnx: the ONNX Runtime benchmark rows; ray: compare --executor ray;
# profile: bench --breakdown of Keras on TF and JAX (xprof); tensorboard: the runs' training curves.
# CI installs all of them, so no check skips.
EXTRAS ?= test,jax,onnx,ray,profile,tensorboard

.PHONY: setup run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_PIN)" -e ".[$(EXTRAS)]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/saltbench compare

bench: setup
	$(BIN)/saltbench bench --quick

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
