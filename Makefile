# Every target builds .venv on its own, so a fresh clone needs only Python 3.11+ and make.
# Installs are pinned by constraints.txt (every package, pip included); `make lock` renews it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := -m pip install --quiet --disable-pip-version-check -c constraints.txt
LOCK_VENV := .lock-venv

.PHONY: run test lint format typecheck bench lock clean pictures

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "WSO Custody Clock needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP) --upgrade pip
	$(BIN)/python $(PIP) -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/wso-bot serve

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

# The README's pictures (docs/pictures/*.png), drawn by Debian's headless Chromium with a
# colour emoji font; as root the target installs both when missing.
pictures: $(STAMP)
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -q 'Noto Color Emoji'; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y chromium fonts-noto-color-emoji; \
	  else echo "make pictures needs Debian's chromium and fonts-noto-color-emoji:" \
	    "sudo apt-get install -y chromium fonts-noto-color-emoji, then make pictures again" >&2; \
	    exit 1; fi; fi
	$(BIN)/python docs/make_pictures.py

# The newest releases pyproject.toml allows, resolved in a fresh venv and pinned. The venv's
# own setuptools is left out: the project does not use it (builds fetch their own).
lock:
	@rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@{ echo "# Pinned by \`make lock\` (pip freeze of a fresh venv); installs use it with -c."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude-editable | grep -v '^setuptools=='; \
	} > constraints.txt
	@rm -rf $(LOCK_VENV)
	@echo "constraints.txt: $$(grep -c '==' constraints.txt) packages pinned"

clean:
	rm -rf $(VENV) $(LOCK_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
