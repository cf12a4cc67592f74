"""Local wall-clock times on the UTC time line: the one home of the DST rule.

Pure: no clock and no I/O. A local time names exactly one instant except on the
nights the clocks change: when they go back, an hour of wall times happens twice;
when they go forward, an hour never happens. :func:`to_utc` refuses both, with a
typed error that carries what a caller needs to explain it, because a guessed hour
moves a legal deadline (arrest times) or hides a typo (the config). :func:`when_reached`
resolves both the way a wall clock does, for a handoff that must happen every day,
change night or not (on-call rotations, floating calendar times).

Every caller words its own message; the rule of which times are refused lives here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo


class LocalTimeError(ValueError):
    """``wall`` does not name exactly one instant in ``zone``.

    ``earlier`` and ``later`` are ``wall`` read in ``zone`` with the UTC offset in force
    before the change (``fold=0``) and after it (``fold=1``): aware datetimes that show
    the typed digits with each offset, ready to suggest as ISO 8601.
    """

    def __init__(self, wall: datetime, zone: tzinfo, earlier: datetime, later: datetime) -> None:
        super().__init__(f"{wall.isoformat()} does not name exactly one instant in {zone}")
        self.wall = wall
        self.zone = zone
        self.earlier = earlier
        self.later = later

    @property
    def offsets(self) -> tuple[timedelta, timedelta]:
        """The UTC offsets before and after the change, e.g. (-5 h, -6 h) in Chicago in autumn."""
        return _offset(self.earlier), _offset(self.later)


class AmbiguousLocalTime(LocalTimeError):
    """``wall`` happens twice (the clocks go back over it): first ``earlier``, then ``later``."""


class SkippedLocalTime(LocalTimeError):
    """``wall`` never happens (the clocks jump forward over it).

    ``transition`` is the UTC instant of the jump, the first instant after the gap;
    the gap is the wall times from ``gap_start`` up to, not including, ``gap_end``.
    """

    def __init__(
        self, wall: datetime, zone: tzinfo, earlier: datetime, later: datetime, transition: datetime
    ) -> None:
        super().__init__(wall, zone, earlier, later)
        self.transition = transition

    @property
    def gap_start(self) -> datetime:
        """The first wall time skipped (naive), e.g. 02:00 on a US spring change night."""
        return (self.transition + _offset(self.earlier)).replace(tzinfo=None)

    @property
    def gap_end(self) -> datetime:
        """The wall time the clocks jump to (naive), e.g. 03:00 on a US spring change night."""
        return (self.transition + _offset(self.later)).replace(tzinfo=None)


def to_utc(wall: datetime, zone: tzinfo) -> datetime:
    """The one instant the naive ``wall`` time names in ``zone``, as an aware UTC datetime.

    Raises :class:`AmbiguousLocalTime` for a time that happens twice and
    :class:`SkippedLocalTime` for one that never happens, rather than guess.
    ``ValueError`` if ``wall`` is aware: its digits would be read in two zones.
    """
    if wall.tzinfo is not None:
        raise ValueError(f"wall must be a naive local time (got {wall!r})")
    earlier, later = (wall.replace(tzinfo=zone, fold=fold) for fold in (0, 1))
    if _offset(earlier) == _offset(later):
        return earlier.astimezone(UTC)
    if _exists(earlier):
        raise AmbiguousLocalTime(wall, zone, earlier, later)
    raise SkippedLocalTime(wall, zone, earlier, later, _transition(wall, earlier, later))


def when_reached(wall: datetime, zone: tzinfo) -> datetime:
    """The first instant at which a clock in ``zone`` reads ``wall`` or later, in UTC.

    A time that happens twice is its first occurrence; a skipped one is the end of the
    gap (02:30 on a US spring change night is 03:00 new time). Never raises for DST.
    """
    try:
        return to_utc(wall, zone)
    except AmbiguousLocalTime as repeated:
        return repeated.earlier.astimezone(UTC)
    except SkippedLocalTime as skipped:
        return skipped.transition


def _offset(local: datetime) -> timedelta:
    return local.utcoffset() or timedelta(0)


def _exists(local: datetime) -> bool:
    """A skipped wall time does not survive a round trip through UTC."""
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def _transition(wall: datetime, earlier: datetime, later: datetime) -> datetime:
    """The first instant whose local time is later than ``wall``, which lies in a gap."""
    # The two readings use the offsets either side of the gap, so the jump lies between
    # them; zone transitions fall on whole seconds.
    zone = earlier.tzinfo
    before, after = sorted(int(reading.timestamp()) for reading in (earlier, later))
    while after - before > 1:
        middle = (before + after) // 2
        local = datetime.fromtimestamp(middle, UTC).astimezone(zone).replace(tzinfo=None)
        if local > wall:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)
