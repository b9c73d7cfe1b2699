# d2lite: two commands for a fresh machine (Python 3.10 to 3.13 and make):
#   make lab    set up .venv and open the book in JupyterLab
#   make test   set up .venv and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# PyTorch (README, "GPU"): tools/torch_install.py installs torch==$(TORCH_VERSION), a CPU build
# (from PyTorch's CPU wheel index on Linux, falling back to the default index where that index
# cannot be reached), keeps a torch already in $(VENV), and installs TORCH_SPEC instead where it is
# given, e.g. TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu126" for CUDA.
TORCH_VERSION ?= 2.13.0
TORCH_SPEC ?=
PYTEST_ARGS ?=
# The Python versions that are tested (pyproject.toml's classifiers name the same ones).
PYTHONS ?= 3.10 3.11 3.12 3.13

.PHONY: setup lab test exercises clean run-notebooks test-matrix test-oldest-newest
setup: $(BIN)/.d2lite-installed

$(BIN)/.d2lite-installed: pyproject.toml tools/torch_install.py d2lite/widgets.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python tools/torch_install.py --version $(TORCH_VERSION) --spec '$(TORCH_SPEC)'
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	$(BIN)/python -m d2lite.widgets >/dev/null  # saved notebooks keep their widgets (or the static picture)
	touch $@

# NO_BROWSER=1 make lab   on a headless server: prints the URL and opens no browser.
# LAB_ARGS="--ip=0.0.0.0 --port=8888"   passes further options to JupyterLab.
LAB_ARGS ?=
lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/chapters \
		$(if $(NO_BROWSER),--no-browser,) $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

test: setup
	$(BIN)/python -m pytest --nbval-lax $(PYTEST_ARGS)

exercises: setup
	$(BIN)/d2lite exercises

clean:
	rm -rf $(VENV) .venv-3.* .venv-lower .pytest_cache

# The whole suite under every Python in PYTHONS found here (pyenv or pythonX.Y on the PATH), each
# in .venv-X.Y, then under the oldest with every dependency at its lower bound (.venv-lower): one
# line each with set-up time, venv size and result; logs in each venv's matrix.log.
SUITE ?= full
test-matrix:
	$(PYTHON) tools/matrix.py --suite $(SUITE) --lower-bounds $(firstword $(PYTHONS)) --pytest-args='$(PYTEST_ARGS)' $(PYTHONS)

# CI's extra runs: the oldest and newest supported Pythons, without the chapter notebooks and the browser tests.
test-oldest-newest:
	$(PYTHON) tools/matrix.py --suite core --pytest-args='$(PYTEST_ARGS)' $(firstword $(PYTHONS)) $(lastword $(PYTHONS))

# Re-run notebooks in place, each in a fresh kernel, storing text progress bars (static viewers
# such as GitHub show tqdm widgets as empty "0%" bars):  make run-notebooks NB="chapters/03_sequences/*.ipynb"
NB ?=
run-notebooks: setup
	D2LITE_PROGRESS=text $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=900 $(NB)

# The book as a website, offline, into _build/html (needs the [book] extra, installed here):
#   make book                   from the notebooks' stored outputs
#   make book BOOK_EXECUTE=1    re-runs every notebook first
#   make book BOOK_REPO_URL=https://github.com/you/d2lite   adds Colab/Binder launch buttons
# Sphinx warnings are errors when CI is set (or BOOK_STRICT=1); internal links are always checked.
.PHONY: book book-setup
BOOK_EXECUTE ?=
BOOK_REPO_URL ?=
BOOK_STRICT ?= $(CI)
book-setup: $(BIN)/.d2lite-book-installed

$(BIN)/.d2lite-book-installed: $(BIN)/.d2lite-installed
	$(BIN)/python -m pip install --quiet -e ".[book]"
	touch $@

book: book-setup
	$(BIN)/python book/build.py $(if $(BOOK_EXECUTE),--execute,) $(if $(BOOK_STRICT),--strict,) \
		$(if $(BOOK_REPO_URL),--repo-url "$(BOOK_REPO_URL)",)

# Train the book's PyTorch models for a few steps on the GPU (CUDA or MPS) and on the CPU, compare
# within stated tolerances, report speed-ups and peak memory; says so and passes when there is no GPU.
.PHONY: gpu-check
gpu-check: setup
	$(BIN)/python benchmarks/gpu_check.py
