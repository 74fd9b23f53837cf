"""CSV exports of orders, payments and the ledger over a date range, streamed a chunk at a time.

Each chunk is read in a short transaction of its own and written out before the next is read:
an export of years of orders never sits in memory, and it never holds a read transaction open
for as long as the download lasts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from smmpanel.clock import iso_utc
from smmpanel.db.export_repositories import Cell, ExportColumn, ExportKind, export_columns
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.csv_cells import csv_lines
from smmpanel.domain.periods import DayRange
from smmpanel.errors import Refused
from smmpanel.money import format_amount

CHUNK = 1000


def export_kind(text: str) -> ExportKind:
    try:
        return ExportKind(text)
    except ValueError:
        raise Refused("Choose orders, payments or ledger") from None


def _cell(column: ExportColumn, value: Any) -> str:
    if value is None:
        return ""
    if column.cell is Cell.MONEY:
        return format_amount(int(value))
    if column.cell is Cell.TIME and isinstance(value, datetime):
        return iso_utc(value)
    return str(value)


def export_filename(kind: ExportKind, days: DayRange) -> str:
    return f"{kind.value}-{days.first}-{days.last}.csv"


def export_csv(db: Database, kind: ExportKind, days: DayRange, *, chunk: int = CHUNK) -> AsyncIterator[str]:
    """The header line, then the rows of the range in id order, ``chunk`` rows per piece of text.

    The range is checked here, before the first byte goes out (a refusal mid-download could not be shown).
    """
    since, until = days.since, days.until
    if since is None or until is None:
        raise Refused("Choose the first and the last day")
    return _pieces(db, kind, since, until, chunk)


async def _pieces(db: Database, kind: ExportKind, since: datetime, until: datetime, chunk: int) -> AsyncIterator[str]:
    columns = export_columns(kind)
    yield csv_lines([[column.header for column in columns]])
    async with db.read() as repos:
        window = await repos.exports.window(kind, since, until)
    after = 0
    while True:
        async with db.read() as repos:
            rows = await repos.exports.chunk(window, after=after, limit=chunk)
        if not rows:
            return
        yield csv_lines([[_cell(column, value) for column, value in zip(columns, row, strict=True)] for row in rows])
        after = int(rows[-1][0])
