"""The benchmarks' arithmetic (bench/figures.py): percentiles, ratios, rows per arrest."""

from __future__ import annotations

import math

import pytest

from bench.figures import percentile, ratio, rows_per_arrest, summarize_latencies


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 99, 5.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([float(n) for n in range(1, 101)], 99, 99.01),
        ([float(n) for n in range(1, 1001)], 99.9, 999.001),
        ([10.0, 20.0], 0, 10.0),
        ([10.0, 20.0], 100, 20.0),
    ],
)
def test_percentile_interpolates_between_the_ranks_around_it(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_not_a_number() -> None:
    assert math.isnan(percentile([], 99))


@pytest.mark.parametrize(
    ("measured", "reference", "expected"),
    [
        (400.0, 1600.0, 0.25),  # the bot's throughput, a quarter of the floor's
        (250.0, 40.0, 6.25),  # the bot's p99, over six times the floor's
        (0.0, 100.0, 0.0),
    ],
)
def test_ratio_is_the_measured_figure_over_the_floors(
    measured: float, reference: float, expected: float
) -> None:
    assert ratio(measured, reference) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("measured", "reference"),
    [(1.0, 0.0), (1.0, -1.0), (math.nan, 1.0), (1.0, math.nan)],
)
def test_a_ratio_to_nothing_is_not_a_number_so_it_fails_its_goal(
    measured: float, reference: float
) -> None:
    assert math.isnan(ratio(measured, reference))


def test_latencies_are_summarized_in_milliseconds_over_the_window() -> None:
    summary = summarize_latencies([0.010, 0.020, 0.030, 0.040], window=2.0)

    assert summary.count == 4
    assert summary.per_second == 2.0
    assert summary.p50 == pytest.approx(25.0)
    assert summary.max == pytest.approx(40.0)


def test_no_latencies_summarize_as_not_a_number_but_zero_throughput() -> None:
    summary = summarize_latencies([], window=10.0)

    assert summary.per_second == 0.0
    assert all(math.isnan(v) for v in (summary.p50, summary.p99, summary.p999, summary.max))


@pytest.mark.parametrize(
    ("custodies", "notices", "audit_entries", "expected"),
    [
        (1000, 17000, 1000, 19.0),  # today: 17 notices planned at logging
        (1000, 0, 1000, 2.0),  # notices planned lazily
        (3, 1, 3, 7 / 3),
    ],
)
def test_rows_per_arrest_counts_the_custody_its_notices_and_its_audit_entries(
    custodies: int, notices: int, audit_entries: int, expected: float
) -> None:
    assert rows_per_arrest(custodies, notices, audit_entries) == pytest.approx(expected)


def test_rows_per_arrest_counts_the_audit_entries_personal_parts_too() -> None:
    # 1000 arrests, 200 of them logged with notes: their personal parts are rows of their own.
    assert rows_per_arrest(1000, 0, 1000, 200) == pytest.approx(2.2)


def test_rows_per_arrest_with_no_arrest_is_not_a_number() -> None:
    assert math.isnan(rows_per_arrest(0, 0, 0))
