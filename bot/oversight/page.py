"""The report as one self-contained HTML page: the figures, the chart, the late custodies.

Everything shown comes from a ``Summary`` and is escaped (facility names come from the
config, bookings from officers); the chart is a PNG inside the page (a ``data:`` URI),
so the file can be mailed or archived alone. Styles are inline: no request leaves it.
"""

from __future__ import annotations

import base64
from datetime import datetime
from html import escape

from bot.core.model import CustodyState
from bot.core.oversight_summary import NAMED_LATE, Spread, Summary

CHART_ID = "chart"
_STYLE = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d1c1d; margin: 24px auto; max-width: 1040px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 20px 0 8px; }
.meta { color: #616061; margin: 0 0 16px; }
.figures { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; }
.figure .value { font-size: 22px; font-weight: 700; }
.figure .label { color: #616061; font-size: 12px; }
.figure.alarm { border-color: #cc0000; } .figure.alarm .value { color: #cc0000; }
img.chart { width: 100%; max-width: 1000px; border: 1px solid #eee; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; }
td.num, th.num { text-align: right; }
.notes { color: #616061; font-size: 12px; }
"""


def _spread(spread: Spread, unit: str) -> str:
    if spread.median is None or spread.p90 is None:
        return "n/a"
    return f"{spread.median:,.1f} / {spread.p90:,.1f} {unit}"


def _figure(value: str, label: str, *, alarm: bool = False) -> str:
    css = "figure alarm" if alarm else "figure"
    return (
        f'<div class="{css}"><div class="value">{escape(value)}</div>'
        f'<div class="label">{escape(label)}</div></div>'
    )


def _rate(summary: Summary) -> str:
    rate = summary.transfer_rate
    if rate is None:
        return "n/a"
    return f"{rate:.0%} ({summary.transfers_in_window:,} of {summary.decided:,})"


def _figures(summary: Summary) -> str:
    ack = summary.acknowledged_after_deadline_minutes
    items = [
        _figure(f"{summary.custodies:,}", "custodies arrested in the period"),
        _figure(_rate(summary), "transferred to ICE within the window"),
        _figure(
            _spread(summary.pickup_hours, "h"),
            f"pickup time, median / p90 ({summary.pickup_hours.count:,} transfers)",
        ),
        _figure(f"{summary.releases_at_expiry:,}", "released at expiry"),
        _figure(
            f"{summary.held_past_deadline:,}",
            "held past the deadline (drive this to zero)",
            alarm=summary.held_past_deadline > 0,
        ),
        _figure(
            _spread(ack, "min"),
            f"acknowledged after the deadline, median / p90 ({ack.count:,})",
        ),
        _figure(f"{summary.acknowledged_before_deadline:,}", "acknowledged before the deadline"),
        _figure(f"{summary.disputed:,}", "identity or citizenship claims raised"),
    ]
    return '<div class="figures">' + "".join(items) + "</div>"


def _outcomes(summary: Summary) -> str:
    cells = "".join(
        f"<tr><td>{escape(state.value)}</td><td class='num'>{summary.outcomes[state]:,}</td></tr>"
        for state in CustodyState
    )
    return f"<table><tr><th>outcome</th><th class='num'>custodies</th></tr>{cells}</table>"


def _late_table(summary: Summary) -> str:
    if not summary.late:
        return "<p>None: every custody ended by its deadline.</p>"
    rows = "".join(
        "<tr>"
        f"<td>{escape(late.booking)}</td>"
        f"<td>{escape(late.facility_name)} ({escape(late.facility_id)})</td>"
        f"<td>{escape(late.outcome.value)}</td>"
        f"<td>{escape(late.deadline.astimezone(late.zone).strftime('%Y-%m-%d %H:%M %Z'))}</td>"
        f"<td class='num'>{late.hours_past:,.1f} h</td>"
        "</tr>"
        for late in summary.late
    )
    more = (
        f"<p>…and {summary.unnamed_late:,} more (the {NAMED_LATE} held longest are named); "
        "<code>wso-bot export</code> lists every one (<code>held_past_deadline</code>).</p>"
        if summary.unnamed_late
        else ""
    )
    return (
        "<table><tr><th>booking</th><th>facility</th><th>outcome</th>"
        "<th>deadline (facility time)</th><th class='num'>past the deadline</th></tr>"
        f"{rows}</table>{more}"
    )


_NOTES = (
    "Custodies belong to the period by the date of the arrest on their facility's calendar. "
    "Transfer rate: transfers whose ICE pickup came by the deadline, of the custodies whose "
    "outcome is known (closed, or open past the deadline), voided ones left out. "
    "Releases at expiry: at or after the deadline, or with the reason “Window expired”. "
    "Held past the deadline: ended after it, or still open past it when the report was made. "
    "Acknowledgement: minutes from the deadline to the acknowledgement recorded on the custody. "
    "Each custody's deadline is the one its counting policy set when it was logged."
)


def render_report(summary: Summary, chart_png: bytes, generated_at: datetime) -> str:
    """The page, whole; ``chart_png`` goes inside it as a data URI."""
    period = escape(summary.period.describe())
    chart = base64.b64encode(chart_png).decode("ascii")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WSO custody report, {period}</title><style>{_STYLE}</style></head>
<body>
<h1>WSO custody report: {period}</h1>
<p class="meta">Made {escape(generated_at.strftime("%Y-%m-%d %H:%M UTC"))} by WSO Custody Clock.
Open custodies are counted as of then.</p>
{_figures(summary)}
<h2>Custodies and pickup times</h2>
<img id="{CHART_ID}" class="chart" alt="Custodies per day by outcome, and hours from arrest to
ICE pickup with the 48-hour deadline marked" src="data:image/png;base64,{chart}">
<h2>Held past the deadline ({summary.held_past_deadline:,})</h2>
{_late_table(summary)}
<h2>Outcomes</h2>
{_outcomes(summary)}
<p class="notes">{escape(_NOTES)}</p>
</body></html>
"""
