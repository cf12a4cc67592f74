"""The README's pictures: what people see in Slack, from the bot's own Block Kit, and the report.

Renders the custody card at each stage, the arrest form and App Home with the bot's
builders (``bot.chat.cards``, ``bot.chat.modals``, ``bot.chat.home``), fixed demo data
and a fixed clock; turns each into an HTML page (``bot.chat.preview``) and screenshots
it with Debian's headless Chromium, cropped to the content's height. The oversight
report (``wso-bot report``) is drawn from demo custodies (``tests/oversight_data.py``)
by the same code as the command's. Run by
``make pictures``; the PNGs land in ``docs/pictures/``, the pages in ``build/pictures/``.

    .venv/bin/python docs/make_pictures.py [--only NAME] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from bot.chat.cards import card_blocks
from bot.chat.home import HomeData, home_view
from bot.chat.modals import arrest_modal
from bot.chat.preview import (
    Directory,
    Message,
    channel_html,
    home_html,
    message_html,
    modal_html,
    page,
)
from bot.core.facility import Facility
from bot.core.model import CUSTODY_WINDOW, Custody, CustodyState, WarrantForm
from bot.core.oversight import FacilityLabel, read_period, records_in_period
from bot.core.oversight_summary import SummaryBuilder
from bot.oversight.chart import draw_chart
from bot.oversight.page import render_report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the demo custodies live with the tests
from tests.oversight_data import varied_custodies  # noqa: E402

PICTURES = ROOT / "docs" / "pictures"
PAGES = ROOT / "build" / "pictures"
WIDTH = 720
MEASURE_HEIGHT = 2400
CHROMIUM = "/usr/bin/chromium"
NOT_INSTALLED = "Debian chromium is not installed (apt-get install chromium)"

OFFICER, DESK, ICE_OFFICER, SERGEANT = "U0AAA", "U0DESK", "U0ICE", "U0SGT"
DIRECTORY = Directory(
    users={
        OFFICER: "Dana Ortiz",
        DESK: "Sgt. Lee",
        ICE_OFFICER: "Officer Morgan (ICE)",
        SERGEANT: "Lt. Brooks",
    },
    channels={"C0JAIL": "county-jail-booking", "C0ICE": "ice-ero-liaison"},
)
# Saturday 2026-11-28 14:05 in Chicago; the window ends Monday 14:05 CST.
ARRESTED = datetime(2026, 11, 28, 20, 5, tzinfo=UTC)
DEADLINE = ARRESTED + CUSTODY_WINDOW
FACILITY = Facility(  # id, name, zone, jail channel, ICE channel, officers
    "county-jail", "County Jail", "America/Chicago", "C0JAIL", "C0ICE", frozenset({OFFICER}),
    staff=frozenset({DESK}), igsa=True,
)  # fmt: skip
ANNEX = replace(FACILITY, id="north-annex", name="North Annex", igsa=False)
OPEN = Custody(
    id="c_7f3a",
    facility_id=FACILITY.id,
    booking="B-2026-0412",
    arrested_at=ARRESTED,
    deadline=DEADLINE,
    logged_by=OFFICER,
    logged_at=ARRESTED + timedelta(minutes=3),
    warrant_form=WarrantForm.I_200,
    warrant_number="W-2026-0042",
)
CLOSED_AT = DEADLINE - timedelta(hours=6)


def _closed(state: CustodyState, reason: str | None = None, by: str = DESK) -> Custody:
    return replace(OPEN, state=state, closed_at=CLOSED_AT, closed_by=by, close_reason=reason)


# name -> (caption, custody, time left when drawn); the README shows them in this order.
CARDS: dict[str, tuple[str, Custody, timedelta]] = {
    "card-more-than-12h": ("Just logged: more than 12 h left", OPEN, timedelta(hours=47)),
    "card-under-12h": ("From the 12 h reminder", OPEN, timedelta(hours=11, minutes=40)),
    "card-under-4h": ("From the 4 h reminder", OPEN, timedelta(hours=3, minutes=20)),
    "card-expired": ("Still open at the deadline", OPEN, -timedelta(minutes=20)),
    "card-disputed": (
        "A citizenship or identity claim was raised",
        replace(
            OPEN,
            disputed_at=ARRESTED + timedelta(hours=2),
            disputed_by=DESK,
            dispute_note="Says he was born in El Paso; family bringing a birth certificate",
        ),
        timedelta(hours=30),
    ),
    "card-corrected": (
        "The arrest time was corrected",
        replace(OPEN, corrected_from=ARRESTED + timedelta(hours=1, minutes=50)),
        timedelta(hours=30),
    ),
    "card-transferred": (
        "ICE took custody",
        replace(
            _closed(CustodyState.TRANSFERRED, by=ICE_OFFICER),
            received_by="Deportation Officer R. Morgan, badge 4471",
            custody_taken_at=CLOSED_AT - timedelta(minutes=10),
        ),
        timedelta(hours=5),
    ),
    "card-released": (
        "Released",
        _closed(CustodyState.RELEASED, "Bond posted; released from intake"),
        timedelta(hours=5),
    ),
    "card-igsa": ("Held under an IGSA", _closed(CustodyState.IGSA), timedelta(hours=5)),
    "card-voided": (
        "Voided: the warrant was cancelled or the entry was a mistake",
        _closed(CustodyState.VOIDED, "Entered under the wrong booking number"),
        timedelta(hours=5),
    ),
}
OTHER: dict[str, str] = {
    "arrest-modal": "The arrest form (`/wso arrest` alone), for an officer of two facilities",
    "app-home": "App Home: open custodies by urgency, today's closures, who is on call",
    "report": "`wso-bot report`: a month of demo custodies in two facilities",
}
# Pictures wider than a Slack message.
WIDTHS = {"report": 1080}


def card_page(name: str) -> str:
    caption, custody, left = CARDS[name]
    now = custody.deadline - left
    message = Message(
        blocks=card_blocks(custody, FACILITY, now),
        time=f"{custody.logged_at.astimezone(FACILITY.zone):%-I:%M %p}",
        edited=now > custody.logged_at + timedelta(minutes=1),
    )
    return page(caption, channel_html("county-jail-booking", message_html(message, DIRECTORY)))


def modal_page() -> str:
    view = arrest_modal([FACILITY, ANNEX], ARRESTED + timedelta(minutes=20), "C0JAIL")
    return page("The arrest form", modal_html(view, DIRECTORY))


def home_page() -> str:
    now = ARRESTED + timedelta(hours=20)
    soon = replace(
        OPEN,
        id="c_2",
        booking="B-2026-0398",
        arrested_at=now - timedelta(hours=45),
        deadline=now + timedelta(hours=3),
    )
    late = replace(soon, id="c_3", booking="B-2026-0377", deadline=now - timedelta(minutes=25))
    annex = replace(OPEN, id="c_4", booking="NA-5521", facility_id=ANNEX.id)
    closed = replace(
        _closed(CustodyState.TRANSFERRED, by=ICE_OFFICER),
        id="c_5",
        booking="B-2026-0360",
        closed_at=now - timedelta(hours=2),
    )
    data = HomeData(
        facilities=(FACILITY, ANNEX),
        open_rows=[(late, FACILITY), (soon, FACILITY), (OPEN, FACILITY), (annex, ANNEX)],
        open_total=4,
        closed_rows=[(closed, FACILITY)],
        oncall_lines=[
            f"• *county-sergeants*: now <@{SERGEANT}> until Mon Nov 30, 07:00 CST; next <@{DESK}>"
        ],
        may_log=True,
    )
    return page("App Home", home_html(home_view(data, now), "WSO Custody Clock", DIRECTORY))


def report_page() -> str:
    """``wso-bot report`` over 60 demo custodies in March, as of April 2."""
    now = datetime(2025, 4, 2, 15, 0, tzinfo=UTC)
    labels = {
        "county-jail": FacilityLabel("County Jail", ZoneInfo("America/Chicago")),
        "north-annex": FacilityLabel("North Annex", ZoneInfo("America/New_York")),
    }
    period = read_period("2025-03-01", "2025-03-31")
    start, end = datetime(2025, 3, 1, 6, tzinfo=UTC), datetime(2025, 4, 1, 4, tzinfo=UTC)
    builder = SummaryBuilder(period, now)
    custodies = varied_custodies(60, list(labels), start, end, seed=11)
    for record in records_in_period(custodies, period, labels, now):
        builder.add(record)
    summary = builder.build()
    html_text = render_report(summary, draw_chart(summary), now)
    return html_text.replace("<body>", '<body><div class="surface">').replace(
        "</body>", "</div></body>"
    )


def pages() -> dict[str, Callable[[], str]]:
    built: dict[str, Callable[[], str]] = {name: partial(card_page, name) for name in CARDS}
    built["arrest-modal"] = modal_page
    built["app-home"] = home_page
    built["report"] = report_page
    return built


def captions() -> dict[str, str]:
    return {**{name: c[0] for name, c in CARDS.items()}, **OTHER}


# The page reports its content's height (in the DOM Chromium dumps); the screenshot is cut there.
_MEASURE = (
    "<script>document.documentElement.dataset.height=Math.ceil("
    "document.querySelector('.surface').getBoundingClientRect().bottom)+16;</script>"
)
_HEIGHT = re.compile(r'data-height="(\d+)"')


def _chromium(chromium: str, *args: str) -> str:
    command = [chromium, "--headless=new", "--no-sandbox", "--hide-scrollbars", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def screenshot(html_path: Path, png: Path, chromium: str = CHROMIUM, width: int = WIDTH) -> None:
    """``html_path`` (a page with the measuring script) as a PNG cut to its content."""
    url = html_path.resolve().as_uri()
    dom = _chromium(chromium, f"--window-size={width},{MEASURE_HEIGHT}", "--dump-dom", url)
    found = _HEIGHT.search(dom)
    height = int(found.group(1)) if found else MEASURE_HEIGHT
    png.parent.mkdir(parents=True, exist_ok=True)
    _chromium(chromium, f"--window-size={width},{height}", f"--screenshot={png.resolve()}", url)


def write_page(name: str, html_text: str, directory: Path = PAGES) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.html"
    path.write_text(html_text.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="just this picture (repeatable)")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)
    if not shutil.which(args.chromium):
        print(f"{NOT_INSTALLED}; as root: apt-get install -y chromium", file=sys.stderr)
        return 2
    for name, build in pages().items():
        if args.only and name not in args.only:
            continue
        png = PICTURES / f"{name}.png"
        width = WIDTHS.get(name, WIDTH)
        screenshot(write_page(name, build()), png, args.chromium, width)
        if name in WIDTHS:  # a large picture: 256 colours keep it small enough to commit
            with Image.open(png) as drawn:
                drawn.convert("RGB").quantize(256).save(png, optimize=True)
        print(f"{png.relative_to(ROOT)}  {png.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
