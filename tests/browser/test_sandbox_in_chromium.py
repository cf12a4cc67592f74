"""The sandbox end to end in a real headless Chromium, as a person evaluating the bot uses it.

``wso-bot sandbox`` runs as a real process; Debian's ``chromium`` opens its page, driven by
Playwright (``executable_path="/usr/bin/chromium"``; no browser download). A person logs an
arrest in the command box, jumps to the deadline, sees the card expire and the sergeant
paged, acknowledges from the page, and sees it on the card and in both channels.

The test saves its last screen as a PNG; with ``WSO_SANDBOX_SCREENSHOT=path`` (set by
``make pictures``) there, for the README. Where Chromium is missing the test is skipped
saying how to install it, except where ``WSO_REQUIRE_BROWSER=1`` (``.ci/run``), where a
missing browser fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.browser.chromium import require_chromium
from tests.fakes.sandbox_process import SandboxProcess

PATIENCE_MS = 15_000

require_chromium()

from playwright.async_api import Browser, Page, expect  # noqa: E402


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    process = SandboxProcess(tmp_path)
    yield process
    process.stop()


async def open_channel(page: Page, name: str) -> None:
    await page.locator(".chan", has_text=name).first.click()
    await expect(page.locator("#title")).to_contain_text(name)


async def test_a_custody_from_arrest_to_acknowledgement_in_the_browser(
    sandbox: SandboxProcess, browser: Browser, tmp_path: Path
) -> None:
    await sandbox.wait_ready()
    page = await browser.new_page(viewport={"width": 1200, "height": 760})
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    await page.goto(sandbox.url)
    await expect(page.locator("#channels .chan").first).to_contain_text("demo-county-jail")

    # The command box, as Dana Reyes (a WSO officer) in the jail channel.
    await expect(page.locator("#user")).to_have_value("U0DEMOOFF1")
    arrested = datetime.now(UTC).astimezone(ZoneInfo("America/Chicago")) - timedelta(minutes=5)
    await page.fill("#command", f"/wso arrest B-1 I-200 at {arrested:%Y-%m-%d %H:%M}")
    await page.click("#send")
    messages = page.locator("#messages")
    await expect(messages).to_contain_text("Logged WSO arrest of booking B-1", timeout=PATIENCE_MS)
    await expect(messages.locator(".msg").first).to_contain_text("Deadline")

    # Time travel to the deadline: the card turns to expired, the sergeant is paged.
    await page.click('[data-travel-to="deadline"]')
    card = messages.locator(".msg").first
    await expect(card).to_contain_text("Window expired", timeout=PATIENCE_MS)
    sergeant = page.locator("#dms .chan", has_text="Sgt. Alex Moore")
    await expect(sergeant).to_be_visible(timeout=PATIENCE_MS)
    await sergeant.click()
    await expect(page.locator("#user")).to_have_value("U0DEMOSGT")
    await expect(messages).to_contain_text("WSO custody overdue")

    # The sergeant acknowledges from the page.
    await messages.get_by_role("button", name="Acknowledge").click()
    await expect(messages).to_contain_text("Acknowledged by", timeout=PATIENCE_MS)
    await expect(messages.get_by_role("button", name="Acknowledge")).to_have_count(0)

    # On the card and in both channels.
    await open_channel(page, "demo-county-ice")
    await expect(messages).to_contain_text("Paging acknowledged", timeout=PATIENCE_MS)
    await open_channel(page, "demo-county-jail")
    await expect(messages).to_contain_text("Paging acknowledged", timeout=PATIENCE_MS)
    card_itself = messages.locator(".msg").first.locator(".content").first
    await expect(card_itself).to_contain_text("Paging acknowledged by @Sgt. Alex Moore")

    await page.locator(".msg").first.scroll_into_view_if_needed()
    shot = Path(os.environ.get("WSO_SANDBOX_SCREENSHOT") or tmp_path / "sandbox.png")
    picture = await page.screenshot(path=str(shot))
    assert len(picture) > 20_000, "a screenshot of the page, not an empty frame"
    assert failures == [], f"the page's script failed: {failures}"
