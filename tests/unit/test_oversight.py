"""Tables for the oversight export's rows, the period it covers, and the report's summary."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.model import Custody, CustodyState
from bot.core.oversight import (
    EXPORT_COLUMNS,
    FacilityLabel,
    Period,
    PeriodError,
    custody_record,
    export_fields,
    read_period,
    records_in_period,
)
from bot.core.oversight_summary import NAMED_LATE, SummaryBuilder, percentile, summarise
from bot.oversight.files import write_csv, write_json
from tests.conftest import custody

CHICAGO = ZoneInfo("America/Chicago")
HONOLULU = ZoneInfo("Pacific/Honolulu")
ARREST = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 09:00 in Chicago
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def closed(state: CustodyState, after: timedelta, **changes: object) -> Custody:
    values: dict[str, object] = {"state": state, "closed_at": ARREST + after}
    return custody(ARREST, **{"closed_by": "U0DESK", **values, **changes})


# (custody, hours held, hours to pickup, closed after deadline, held past deadline, at expiry)
RECORDS = [
    pytest.param(custody(ARREST), 693.0, None, None, True, False, id="open-past-deadline"),
    pytest.param(
        custody(NOW - 10 * H, logged_at=NOW - 10 * H),
        10.0,
        None,
        None,
        False,
        False,
        id="open-in-window",
    ),
    pytest.param(
        closed(CustodyState.TRANSFERRED, 30 * H),
        30.0,
        30.0,
        False,
        False,
        False,
        id="transferred-in-window",
    ),
    pytest.param(
        closed(CustodyState.TRANSFERRED, 50 * H, custody_taken_at=ARREST + 47.5 * H),
        47.5,
        47.5,
        False,
        False,
        False,
        id="transfer-recorded-late-but-taken-in-time",
    ),
    pytest.param(
        closed(CustodyState.TRANSFERRED, 49 * H),
        49.0,
        49.0,
        True,
        True,
        False,
        id="transferred-late",
    ),
    pytest.param(
        closed(CustodyState.RELEASED, 48 * H),
        48.0,
        None,
        False,
        False,
        True,
        id="released-at-the-deadline",
    ),
    pytest.param(
        closed(CustodyState.RELEASED, 48.25 * H),
        48.25,
        None,
        True,
        True,
        True,
        id="released-after-the-deadline",
    ),
    pytest.param(
        closed(CustodyState.RELEASED, 47 * H, close_reason="Window expired: paperwork"),
        47.0,
        None,
        False,
        False,
        True,
        id="released-window-expired-reason",
    ),
    pytest.param(
        closed(CustodyState.RELEASED, 5 * H, close_reason="Bond posted"),
        5.0,
        None,
        False,
        False,
        False,
        id="released-early",
    ),
    pytest.param(closed(CustodyState.IGSA, 60 * H), 60.0, None, True, True, False, id="igsa-late"),
    pytest.param(closed(CustodyState.VOIDED, 1 * H), 1.0, None, False, False, False, id="voided"),
]


@pytest.mark.parametrize(
    ("stored", "held", "pickup", "closed_late", "held_late", "at_expiry"), RECORDS
)
def test_each_custody_becomes_one_record(
    stored: Custody,
    held: float,
    pickup: float | None,
    closed_late: bool | None,
    held_late: bool,
    at_expiry: bool,
) -> None:
    record = custody_record(stored, "County Jail", CHICAGO, NOW)

    assert record.hours_held == held
    assert record.hours_to_pickup == pickup
    assert record.closed_after_deadline is closed_late
    assert record.held_past_deadline is held_late
    assert record.released_at_expiry is at_expiry
    assert record.policy == "elapsed-48h v1"


def test_a_row_gives_utc_and_facility_times_and_every_column() -> None:
    stored = closed(CustodyState.TRANSFERRED, 30 * H, acknowledged_at=ARREST + H)
    fields = export_fields(custody_record(stored, "County Jail", CHICAGO, NOW))

    assert tuple(fields) == EXPORT_COLUMNS
    assert fields["arrested_at_utc"] == "2026-11-02T15:00:00Z"
    assert fields["arrested_at_local"] == "2026-11-02T09:00:00-06:00"
    assert fields["deadline_local"] == "2026-11-04T09:00:00-06:00"
    assert fields["outcome_at_local"] == "2026-11-03T15:00:00-06:00"
    assert fields["timezone"] == "America/Chicago"
    assert (fields["outcome"], fields["closed_by"], fields["logged_by"]) == (
        "transferred",
        "U0DESK",
        stored.logged_by,
    )
    assert "a_number" not in fields


@pytest.mark.parametrize(
    ("first", "last", "said"),
    [
        pytest.param("2026-11-30", "2026-11-01", "reversed", id="reversed"),
        pytest.param(None, "2026-11-01", "--from is missing", id="no-from"),
        pytest.param("2026-11-01", "", "--to is missing", id="empty-to"),
        pytest.param("11/01/2026", "2026-11-30", "is not a date: use YYYY-MM-DD", id="us-style"),
        pytest.param("2026-02-30", "2026-03-01", "not a date of the calendar", id="feb-30"),
        pytest.param("2026-11-01", "yesterday", "--to 'yesterday' is not a date", id="word"),
    ],
)
def test_a_bad_period_is_refused_with_an_example(
    first: str | None, last: str | None, said: str
) -> None:
    with pytest.raises(PeriodError) as refused:
        read_period(first, last)
    assert said in refused.value.message
    assert refused.value.example == "--from 2026-11-01 --to 2026-11-30"


def test_one_day_is_a_period() -> None:
    assert read_period("2026-11-02", "2026-11-02") == Period(date(2026, 11, 2), date(2026, 11, 2))


def test_a_period_is_read_on_each_facilitys_calendar() -> None:
    # 2026-11-03 05:00 UTC is Nov 2, 23:00 in Chicago and Nov 2, 19:00 in Honolulu;
    # 2026-11-02 08:00 UTC is Nov 1 in Honolulu (22:00) but Nov 2 in Chicago (02:00).
    late_evening = custody(datetime(2026, 11, 3, 5, 0, tzinfo=UTC), id="c-chi", facility_id="chi")
    early = custody(datetime(2026, 11, 2, 8, 0, tzinfo=UTC), id="c-hnl", facility_id="hnl")
    gone = custody(datetime(2026, 11, 2, 1, 0, tzinfo=UTC), id="c-gone", facility_id="gone")
    labels = {"chi": FacilityLabel("Chicago", CHICAGO), "hnl": FacilityLabel("Hilo", HONOLULU)}
    period = read_period("2026-11-02", "2026-11-02")
    start, end = period.search_bounds()
    assert all(start <= c.arrested_at < end for c in (late_evening, early, gone))

    found = list(records_in_period([late_evening, early, gone], period, labels, NOW))

    assert [r.custody.id for r in found] == ["c-chi", "c-gone"]
    assert found[1].facility_name == "gone (not in the config)"
    assert found[1].zone.key == "UTC"


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [([], None, None), ([5.0], 5.0, 5.0), ([1.0, 2.0], 1.5, 1.9), ([*range(1, 11)], 5.5, 9.1)],
)
def test_percentiles_interpolate_between_ranks(
    values: list[float], median: float | None, p90: float | None
) -> None:
    assert percentile([float(v) for v in values], 0.5) == median
    found = percentile([float(v) for v in values], 0.9)
    assert found == p90 if p90 is None else found == pytest.approx(p90)


def test_the_summary_counts_what_the_report_shows() -> None:
    stored = [
        closed(CustodyState.TRANSFERRED, 10 * H, id="t1"),
        closed(CustodyState.TRANSFERRED, 20 * H, id="t2"),
        closed(CustodyState.TRANSFERRED, 50 * H, id="t-late", booking="B-LATE"),
        closed(CustodyState.RELEASED, 49 * H, id="r-expiry", booking="B-REL"),
        closed(CustodyState.VOIDED, 1 * H, id="v"),
        custody(ARREST, id="open-late", booking="B-OPEN", acknowledged_at=ARREST + 48.5 * H),
        custody(NOW - H, id="open-fresh", logged_at=NOW - H, acknowledged_at=NOW - H / 2),
    ]
    builder = SummaryBuilder(read_period("2026-11-01", "2026-12-01"), NOW)
    for each in stored:
        builder.add(custody_record(each, "County Jail", CHICAGO, NOW))
    summary = builder.build()

    assert summary.custodies == 7
    # Known outcomes: t1, t2, t-late, r-expiry and open-late (voided out, open-fresh pending).
    assert (summary.transfers_in_window, summary.decided) == (2, 5)
    assert summary.transfer_rate == pytest.approx(0.4)
    assert (summary.pickup_hours.count, summary.pickup_hours.median) == (3, 20.0)
    assert summary.pickup_hours.p90 == pytest.approx(44.0)
    assert summary.releases_at_expiry == 1
    assert summary.held_past_deadline == 3
    assert [late.booking for late in summary.late] == ["B-OPEN", "B-LATE", "B-REL"]  # worst first
    assert summary.acknowledged_after_deadline_minutes.median == 30.0
    assert summary.acknowledged_before_deadline == 1
    assert summary.outcomes[CustodyState.TRANSFERRED] == 3
    assert sum(summary.pickup_bins) == 3
    assert sum(sum(day.values()) for day in summary.per_day.values()) == 7


def test_the_summary_names_the_worst_late_custodies_and_counts_the_rest() -> None:
    builder = SummaryBuilder(read_period("2026-11-01", "2026-12-01"), NOW)
    for n in range(NAMED_LATE + 25):
        late = closed(CustodyState.RELEASED, (49 + n) * H, id=f"c{n:04d}", booking=f"B-{n}")
        builder.add(custody_record(late, "County Jail", CHICAGO, NOW))
    summary = builder.build()

    assert summary.held_past_deadline == NAMED_LATE + 25
    assert len(summary.late) == NAMED_LATE and summary.unnamed_late == 25
    assert summary.late[0].booking == f"B-{NAMED_LATE + 24}"
    assert summary.late[-1].booking == "B-25"


def test_csv_cells_a_spreadsheet_would_run_are_quoted_and_json_keeps_types() -> None:
    risky = closed(CustodyState.RELEASED, 5 * H, booking="-2+3", closed_by="=HYPERLINK(1)")
    record = custody_record(risky, "@County", CHICAGO, NOW)
    csv_text, json_text = io.StringIO(), io.StringIO()

    assert write_csv([record], csv_text) == 1
    assert write_json([record], json_text) == 1

    assert ",'-2+3," in csv_text.getvalue()
    assert ",'=HYPERLINK(1)," in csv_text.getvalue()
    assert ",'@County," in csv_text.getvalue()
    assert '"booking": "-2+3"' in json_text.getvalue()
    assert '"hours_held": 5.0' in json_text.getvalue()
    assert '"closed_after_deadline": false' in json_text.getvalue()


def test_an_empty_export_is_a_header_or_an_empty_array() -> None:
    csv_text, json_text = io.StringIO(), io.StringIO()
    assert write_csv([], csv_text) == 0 and csv_text.getvalue().count("\n") == 1
    assert write_json([], json_text) == 0 and json_text.getvalue() == "[]\n"


def test_the_export_writes_each_row_as_its_custody_arrives() -> None:
    """Streaming: the first row is out before the second custody is read, and so on."""
    taken: list[str] = []
    written_after: list[int] = []

    def custodies() -> object:
        for n in range(3):
            taken.append(f"c{n}")
            yield replace(closed(CustodyState.RELEASED, 5 * H), id=f"c{n}")

    class Sink(io.StringIO):
        def write(self, text: str) -> int:
            written_after.append(len(taken))
            return super().write(text)

    labels = {"county-jail": FacilityLabel("County Jail", CHICAGO)}
    period = read_period("2026-11-01", "2026-11-30")
    records = records_in_period(custodies(), period, labels, NOW)  # type: ignore[arg-type]
    assert write_csv(records, Sink()) == 3
    assert written_after == [0, 1, 2, 3]  # header, then one row per custody taken


@pytest.mark.parametrize(
    ("first", "last", "count"),
    [
        pytest.param("2030-01-01", "2030-12-31", 0, id="no-custodies"),
        pytest.param("2026-11-02", "2026-11-02", 5, id="one-day"),
        pytest.param("2026-01-01", "2026-12-31", 300, id="a-year-by-week"),
    ],
)
def test_the_chart_and_page_are_drawn_for_any_period(first: str, last: str, count: int) -> None:
    from bot.oversight.chart import draw_chart
    from bot.oversight.page import render_report
    from tests.oversight_data import varied_custodies

    period = read_period(first, last)
    start = datetime.combine(period.first, datetime.min.time(), UTC) + 6 * H
    end = datetime.combine(period.last, datetime.max.time(), UTC)
    labels = {"county-jail": FacilityLabel("County Jail", CHICAGO)}
    summary = summarise(varied_custodies(count, ["county-jail"], start, end), period, labels, NOW)
    png = draw_chart(summary)  # warnings are errors here: none from matplotlib either

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png[16:24] == (1000).to_bytes(4, "big") + (380).to_bytes(4, "big")  # IHDR size
    page = render_report(summary, png, NOW)
    assert page.count("<img ") == 1 and f"({summary.held_past_deadline:,})" in page
    assert summary.custodies == count
