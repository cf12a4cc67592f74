# Every target builds .venv on its own, so a fresh clone needs only Python 3.11+ and make.
# Installs are pinned by constraints.txt (every package, pip included); `make lock` renews it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := -m pip install --quiet --disable-pip-version-check -c constraints.txt
LOCK_VENV := .lock-venv

.PHONY: run test lint format typecheck bench lock clean pictures browser

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "WSO Custody Clock needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP) --upgrade pip
	$(BIN)/python $(PIP) -e '.[dev]'
	@touch $(STAMP)

# With Slack credentials in the environment, the bot itself; without, the sandbox (the real
# bot against a stand-in Slack, in a browser page at http://127.0.0.1:3000/sandbox).
run: $(STAMP)
	@if [ -n "$$SLACK_BOT_TOKEN$$SLACK_APP_TOKEN" ]; then exec $(BIN)/wso-bot serve; fi; \
	echo "No Slack credentials in the environment (SLACK_BOT_TOKEN): starting the sandbox."; \
	echo "To run against Slack, see README.md, 'Setting up the Slack app'."; \
	exec $(BIN)/wso-bot sandbox

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The sandbox's browser test drives Debian's chromium. As root this installs it when missing;
# otherwise it says how, and that test is skipped saying why (.ci/run requires it).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the sandbox's browser test"; \
	    apt-get install -y -qq chromium >/dev/null || \
	      { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
	      echo "chromium could not be installed: the browser test will say so"; \
	  else echo "No /usr/bin/chromium: the browser test is skipped" \
	    "(sudo apt-get install -y chromium to run it)"; fi; fi

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
	WSO_REQUIRE_BROWSER=1 WSO_SANDBOX_SCREENSHOT=docs/pictures/sandbox.png \
	  $(BIN)/python -m pytest -q tests/browser/test_sandbox_in_chromium.py

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
