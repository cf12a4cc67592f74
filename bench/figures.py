"""The arithmetic of the benchmarks' figures: percentiles, ratios, rows per arrest.

Pure: plain numbers in, plain numbers out; NaN where there is nothing to measure, so
that a run that could not measure a figure counts against its goal (``Goal.met``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of unsorted values; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(measured: float, reference: float) -> float:
    """``measured / reference``; NaN when either is NaN or the reference is not positive."""
    if math.isnan(measured) or math.isnan(reference) or reference <= 0:
        return math.nan
    return measured / reference


@dataclass(frozen=True)
class LatencySummary:
    """Client-side latencies of one load, in milliseconds, and its throughput."""

    count: int
    per_second: float
    p50: float
    p99: float
    p999: float
    max: float


def summarize_latencies(seconds: Sequence[float], window: float) -> LatencySummary:
    """Latencies given in seconds, answered within a measured window of ``window`` seconds."""
    ms = [value * 1000 for value in seconds]
    return LatencySummary(
        count=len(ms),
        per_second=len(ms) / window if window > 0 else math.nan,
        p50=percentile(ms, 50),
        p99=percentile(ms, 99),
        p999=percentile(ms, 99.9),
        max=max(ms, default=math.nan),
    )


def rows_per_arrest(
    custodies: int, notices: int, audit_entries: int, audit_personal: int = 0
) -> float:
    """Rows written per custody logged: the custody, its notices, its audit entries and
    their personal parts (an entry with notes or a reason keeps them in a row of its own).

    NaN when no custody was logged (nothing to divide by).
    """
    if custodies <= 0:
        return math.nan
    return (custodies + notices + audit_entries + audit_personal) / custodies
