"""The panel's notion of now: naive UTC, the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 with a ``Z``, as the subscriptions listing shows it."""
    return moment.replace(microsecond=0).isoformat() + "Z"
