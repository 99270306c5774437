# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q -e . --group test --group docs --group lint
	touch $(STAMP)

# The upgrade guide's test command, exactly.
test: $(STAMP)
	. $(BIN)/activate && coverage erase
	. $(BIN)/activate && python -W error::DeprecationWarning -W error::PendingDeprecationWarning -m coverage run --parallel -m pytest --ds tests.settings
	. $(BIN)/activate && coverage combine
	. $(BIN)/activate && coverage report

# The example chat on SQLite behind the local API Gateway; Ctrl-C stops both.
# `make demo PORT=9000`: Django on 9000, the gateway on 9001 (or GATEWAY_PORT=).
PORT ?= 8000
GATEWAY_PORT ?=
demo: $(STAMP)
	@$(BIN)/python example/demo.py --port $(PORT) $(if $(GATEWAY_PORT),--gateway-port $(GATEWAY_PORT))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build .coverage .coverage.* htmlcov
