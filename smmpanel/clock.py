"""The panel's notion of now: naive UTC, the same on SQLite and PostgreSQL.

Every part of the panel asks ``utcnow`` (never ``datetime.now``), so a test or a
simulation can move the whole panel through hours in seconds with ``travel``.
"""

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) + _offset


def travel(by: timedelta) -> None:
    """Move the panel's clock on by ``by`` (simulated time, for tests and simulations)."""
    global _offset
    _offset += by


def travel_back() -> None:
    """The real time again."""
    global _offset
    _offset = timedelta(0)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 with a ``Z``, as the subscriptions listing shows it."""
    return moment.replace(microsecond=0).isoformat() + "Z"
