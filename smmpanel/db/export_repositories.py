"""Rows of orders, payments and ledger entries over a date range, one chunk at a time, for CSV export.

A chunk is a primary-key range read (``id > after ... LIMIT n``) inside the ids of the window,
so an export of millions of rows holds one chunk in memory at a time and every chunk costs the same.
Orders are read from ``orders`` and ``orders_archive`` alike (each over its own id range, merged
by id in one statement), so archiving changes no byte of an export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.keyset import keyset, keyset_union
from smmpanel.db.report_repositories import Reports
from smmpanel.db.tables import (
    ledger_entries,
    orders,
    orders_archive,
    payment_gateways,
    payments,
    providers,
    services,
    users,
)


class ExportKind(StrEnum):
    ORDERS = "orders"
    PAYMENTS = "payments"
    LEDGER = "ledger"


class Cell(StrEnum):
    """How a column's value is written: as text, as an exact amount, as a UTC moment."""

    TEXT = "text"
    MONEY = "money"
    TIME = "time"


@dataclass(frozen=True)
class ExportColumn:
    header: str
    column: Any
    cell: Cell = Cell.TEXT


_COLUMNS: dict[ExportKind, list[ExportColumn]] = {
    ExportKind.ORDERS: [
        ExportColumn("id", orders.c.id),
        ExportColumn("created_at", orders.c.created_at, Cell.TIME),
        ExportColumn("customer", users.c.username),
        ExportColumn("service_id", orders.c.service_id),
        ExportColumn("service", services.c.name),
        ExportColumn("link", orders.c.link),
        ExportColumn("quantity", orders.c.quantity),
        ExportColumn("runs", orders.c.runs),
        ExportColumn("status", orders.c.status),
        ExportColumn("charge", orders.c.charge, Cell.MONEY),
        ExportColumn("refunded", orders.c.refunded, Cell.MONEY),
        ExportColumn("start_count", orders.c.start_count),
        ExportColumn("remains", orders.c.remains),
        ExportColumn("provider", providers.c.name),
        ExportColumn("provider_order_id", orders.c.provider_order_id),
        ExportColumn("upstream_charge", orders.c.upstream_charge, Cell.MONEY),
    ],
    ExportKind.PAYMENTS: [
        ExportColumn("id", payments.c.id),
        ExportColumn("created_at", payments.c.created_at, Cell.TIME),
        ExportColumn("customer", users.c.username),
        ExportColumn("gateway", payment_gateways.c.name),
        ExportColumn("status", payments.c.status),
        ExportColumn("amount", payments.c.amount, Cell.MONEY),
        ExportColumn("fee", payments.c.fee, Cell.MONEY),
        ExportColumn("bonus", payments.c.bonus, Cell.MONEY),
        ExportColumn("currency", payments.c.currency),
        ExportColumn("reference", payments.c.reference),
        ExportColumn("note", payments.c.note),
        ExportColumn("confirmed_at", payments.c.confirmed_at, Cell.TIME),
    ],
    ExportKind.LEDGER: [
        ExportColumn("id", ledger_entries.c.id),
        ExportColumn("created_at", ledger_entries.c.created_at, Cell.TIME),
        ExportColumn("customer", users.c.username),
        ExportColumn("kind", ledger_entries.c.kind),
        ExportColumn("amount", ledger_entries.c.amount, Cell.MONEY),
        ExportColumn("balance_after", ledger_entries.c.balance_after, Cell.MONEY),
        ExportColumn("order_id", ledger_entries.c.order_id),
        ExportColumn("note", ledger_entries.c.note),
    ],
}


@dataclass(frozen=True)
class _Source:
    """One table an export reads, joined to the names it shows, with the export's columns over it."""

    table: sa.Table
    joined: Any
    columns: list[Any]


def _orders_of(table: sa.Table) -> _Source:
    """The orders export over ``orders`` or its archive (the same columns by name)."""

    def over(column: Any) -> Any:
        return table.c[column.name] if column.table is orders else column

    joined = (
        table.join(users, users.c.id == table.c.user_id)
        .join(services, services.c.id == table.c.service_id)
        .outerjoin(providers, providers.c.id == table.c.provider_id)
    )
    return _Source(table, joined, [over(item.column).label(item.header) for item in _COLUMNS[ExportKind.ORDERS]])


def _one(table: sa.Table, joined: Any, kind: ExportKind) -> _Source:
    return _Source(table, joined, [item.column.label(item.header) for item in _COLUMNS[kind]])


_SOURCES: dict[ExportKind, list[_Source]] = {
    ExportKind.ORDERS: [_orders_of(orders), _orders_of(orders_archive)],
    ExportKind.PAYMENTS: [
        _one(
            payments,
            payments.join(users, users.c.id == payments.c.user_id).join(
                payment_gateways, payment_gateways.c.id == payments.c.gateway_id
            ),
            ExportKind.PAYMENTS,
        )
    ],
    ExportKind.LEDGER: [
        _one(ledger_entries, ledger_entries.join(users, users.c.id == ledger_entries.c.user_id), ExportKind.LEDGER)
    ],
}


def export_columns(kind: ExportKind) -> list[ExportColumn]:
    return _COLUMNS[kind]


@dataclass(frozen=True)
class ExportWindow:
    """What one export reads: rows of ``kind`` created in ``[since, until)``, and for each table
    it reads the ids such rows can have (``first <= id < end``)."""

    kind: ExportKind
    since: datetime
    until: datetime
    id_ranges: list[tuple[int, int]]


class Exports:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def window(self, kind: ExportKind, since: datetime, until: datetime) -> ExportWindow:
        """The export's id range in each of its tables (a binary search of each on its primary key)."""
        reports = Reports(self._conn)
        ranges = [
            (await reports.first_id_since(source.table, since), await reports.first_id_since(source.table, until))
            for source in _SOURCES[kind]
        ]
        return ExportWindow(kind, since, until, ranges)

    async def chunk(self, window: ExportWindow, *, after: int, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows of the window with ids above ``after``, by id; the id comes first."""
        arms = []
        for source, (first, end) in zip(_SOURCES[window.kind], window.id_ranges, strict=True):
            table = source.table
            query = (
                sa.select(*source.columns)
                .select_from(source.joined)
                .where(
                    table.c.id >= first,
                    table.c.id < end,
                    table.c.created_at >= window.since,
                    table.c.created_at < window.until,
                )
            )
            arms.append((query, table.c.id))
        if len(arms) == 1:
            query = keyset(*arms[0], before=None, after=after, limit=limit)
        else:
            query = keyset_union(arms, before=None, after=after, limit=limit)
        return [tuple(row) for row in await self._conn.execute(query)]
