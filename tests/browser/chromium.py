"""Debian's headless Chromium for the browser tests, driven by Playwright (no browser download).

Where ``/usr/bin/chromium`` is missing a browser test is skipped, saying how to install it,
except where ``WSO_REQUIRE_BROWSER=1`` (``.ci/run``): there a missing browser fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# As the machine's own probe starts it: without the background-networking flags Chromium
# keeps trying to reach Google's hosts, which a closed network refuses.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """At a browser test module's top: skip it (or, in CI, fail) without the browser."""
    if CHROMIUM.exists():
        return
    if os.environ.get("WSO_REQUIRE_BROWSER") == "1":
        pytest.fail(
            f"{CHROMIUM} is missing and WSO_REQUIRE_BROWSER=1: install Debian's chromium "
            "(apt-get install -y chromium)",
            pytrace=False,
        )
    pytest.skip(
        f"Debian's chromium is not installed ({CHROMIUM} is missing), and only root can install "
        "it: sudo apt-get install -y chromium, then make test again",
        allow_module_level=True,
    )
