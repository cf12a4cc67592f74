"""The report's chart as PNG bytes, drawn with matplotlib's object API (no pyplot state).

Left: custodies arrested per day (per week over long periods), stacked by outcome.
Right: how long ICE took to pick people up, in 4-hour bins, with the 48-hour deadline
marked. Drawn headless (the Agg canvas), so no display or GUI toolkit is needed.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.core.model import CustodyState
from bot.core.oversight_summary import PICKUP_BIN_HOURS, PICKUP_BINS, Summary

# Outcomes in stacking order, with colours that stay apart for colour-blind readers.
OUTCOME_COLOURS = {
    CustodyState.TRANSFERRED: "#0072B2",
    CustodyState.RELEASED: "#E69F00",
    CustodyState.IGSA: "#009E73",
    CustodyState.VOIDED: "#999999",
    CustodyState.OPEN: "#D55E00",
}
# Beyond this many days, bars are weeks (Mondays): a year of daily bars is unreadable.
DAILY_UP_TO = 62
DEADLINE_HOURS = 48


def _buckets(summary: Summary) -> tuple[list[date], dict[CustodyState, list[int]], str]:
    """The bars' dates and each outcome's heights: per day, or per week for long periods."""
    first, last = summary.period.first, summary.period.last
    weekly = (last - first).days + 1 > DAILY_UP_TO
    step = timedelta(days=7 if weekly else 1)
    start = first - timedelta(days=first.weekday()) if weekly else first
    days = []
    while start <= last:
        days.append(start)
        start += step
    heights = {state: [0] * len(days) for state in OUTCOME_COLOURS}
    for day, counts in summary.per_day.items():
        index = ((day - days[0]).days // step.days) if days else 0
        for state, count in counts.items():
            heights[state][index] += count
    return days, heights, "week" if weekly else "day"


def _custodies_panel(figure: Figure, summary: Summary) -> None:
    axes = figure.add_subplot(1, 2, 1)
    days, heights, unit = _buckets(summary)
    bottom = [0] * len(days)
    width = 5.6 if unit == "week" else 0.8
    positions = date2num(days)
    for state, colour in OUTCOME_COLOURS.items():
        if any(heights[state]):
            axes.bar(
                positions, heights[state], width, bottom=bottom, color=colour, label=state.value
            )
            bottom = [b + h for b, h in zip(bottom, heights[state], strict=True)]
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"Custodies by arrest {unit} and outcome", pad=22)
    axes.set_ylabel("custodies")
    if not any(any(counts) for counts in heights.values()):
        axes.text(0.5, 0.5, "no custodies", ha="center", transform=axes.transAxes)
        return
    axes.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(OUTCOME_COLOURS),
        fontsize="small",
        frameon=False,
        handlelength=1,
    )


def _pickup_panel(figure: Figure, summary: Summary) -> None:
    axes = figure.add_subplot(1, 2, 2)
    starts = [index * PICKUP_BIN_HOURS for index in range(PICKUP_BINS)]
    colours = [
        OUTCOME_COLOURS[CustodyState.TRANSFERRED] if start < DEADLINE_HOURS else "#CC0000"
        for start in starts
    ]
    axes.bar(starts, summary.pickup_bins, PICKUP_BIN_HOURS * 0.9, align="edge", color=colours)
    axes.axvline(DEADLINE_HOURS, color="#CC0000", linestyle="--", linewidth=1.5)
    axes.text(
        DEADLINE_HOURS + 0.5,
        0.95,
        "48 h deadline",
        color="#CC0000",
        transform=axes.get_xaxis_transform(),
        va="top",
        fontsize="small",
    )
    axes.set_xticks(range(0, PICKUP_BINS * PICKUP_BIN_HOURS + 1, 12))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Hours from arrest to ICE pickup")
    axes.set_xlabel(f"hours (last bar: {(PICKUP_BINS - 1) * PICKUP_BIN_HOURS} h or more)")
    axes.set_ylabel("transfers")


def draw_chart(summary: Summary) -> bytes:
    """Both panels as one PNG, about 1000 x 380 pixels."""
    figure = Figure(figsize=(10, 3.8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    _custodies_panel(figure, summary)
    _pickup_panel(figure, summary)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
