"""A range of whole UTC days, as an operator types it (2026-12-01 to 2026-12-03, both included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from smmpanel.errors import Refused

MAX_DAYS = 3660
"""Ten years: a report or an export over more is a typing mistake."""


@dataclass(frozen=True)
class DayRange:
    first: date | None
    last: date | None

    @property
    def since(self) -> datetime | None:
        """The first moment inside the range."""
        return None if self.first is None else datetime.combine(self.first, datetime.min.time())

    @property
    def until(self) -> datetime | None:
        """The first moment after the range (the last day is included)."""
        return None if self.last is None else datetime.combine(self.last + timedelta(days=1), datetime.min.time())


def _day(text: str, label: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused("%(label)s: write a date as YYYY-MM-DD", label=label) from None


def day_range(first: str, last: str, *, default_days: int | None = None, today: date | None = None) -> DayRange:
    """The range from two typed dates; a blank one is open, or with ``default_days`` the last days to today."""
    start, end = _day(first, "From"), _day(last, "To")
    if default_days is not None and today is not None:
        end = end or today
        start = start or end - timedelta(days=default_days - 1)
    if start is not None and end is not None:
        if end < start:
            raise Refused("To: the last day comes before the first")
        if (end - start).days >= MAX_DAYS:
            raise Refused("At most %(max_days)s days at once", max_days=MAX_DAYS)
    return DayRange(start, end)
