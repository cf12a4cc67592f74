"""The report as a person opens it: Debian's headless Chromium, driven by Playwright.

(Skipped, saying how to install it, where ``/usr/bin/chromium`` is missing; failed there
in CI, ``WSO_REQUIRE_BROWSER=1``.)

The page must render whole from the one file (no request leaves it), the chart must
be a loaded image with a real size, and every figure must be on the page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.async_api import Browser

from bot.core.oversight import FacilityLabel, read_period
from bot.core.oversight_summary import Summary, summarise
from bot.oversight.chart import draw_chart
from bot.oversight.page import CHART_ID, render_report
from tests.browser.chromium import require_chromium
from tests.oversight_data import varied_custodies

NOW = datetime(2025, 4, 2, 12, 0, tzinfo=UTC)

require_chromium()


def demo_summary() -> Summary:
    labels = {"county-jail": FacilityLabel("County <Jail>", ZoneInfo("America/Chicago"))}
    period = read_period("2025-03-01", "2025-03-31")
    start, end = datetime(2025, 3, 1, 6, tzinfo=UTC), datetime(2025, 4, 1, 5, tzinfo=UTC)
    return summarise(varied_custodies(240, ["county-jail"], start, end), period, labels, NOW)


async def test_the_report_renders_in_chromium_with_its_chart_loaded(
    browser: Browser, tmp_path: Path
) -> None:
    summary = demo_summary()
    report = tmp_path / "report.html"
    report.write_text(render_report(summary, draw_chart(summary), NOW), encoding="utf-8")
    requests: list[str] = []
    problems: list[str] = []

    page = await browser.new_page(viewport={"width": 1100, "height": 900})
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(report.as_uri())
    await page.wait_for_load_state("load")
    chart = page.locator(f"img#{CHART_ID}")
    loaded = await chart.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    shown = await chart.bounding_box()
    heading = await page.locator("h1").inner_text()
    body = await page.locator("body").inner_text()
    screenshot = await page.screenshot(full_page=True)

    complete, natural_width, natural_height = loaded
    assert complete and natural_width > 0 and natural_height > 0
    assert (natural_width, natural_height) == (1000, 380)
    assert shown is not None and shown["width"] > 500 and shown["height"] > 150
    assert heading == "WSO custody report: 2025-03-01 to 2025-03-31"
    assert f"{summary.custodies:,}" in body
    assert f"Held past the deadline ({summary.held_past_deadline:,})" in body
    assert "County <Jail>" in body  # escaped in the file, shown as written
    assert all(late.booking in body for late in summary.late)
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    assert problems == []
    assert screenshot.startswith(b"\x89PNG")
