"""Rows of orders, payments and ledger entries over a date range, one chunk at a time, for CSV export.

A chunk is a primary-key range read (``id > after ... LIMIT n``) inside the ids of the window,
so an export of millions of rows holds one chunk in memory at a time and every chunk costs the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.report_repositories import Reports
from smmpanel.db.tables import ledger_entries, orders, payment_gateways, payments, providers, services, users


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

_FROM: dict[ExportKind, tuple[sa.Table, Any]] = {
    ExportKind.ORDERS: (
        orders,
        orders.join(users, users.c.id == orders.c.user_id)
        .join(services, services.c.id == orders.c.service_id)
        .outerjoin(providers, providers.c.id == orders.c.provider_id),
    ),
    ExportKind.PAYMENTS: (
        payments,
        payments.join(users, users.c.id == payments.c.user_id).join(
            payment_gateways, payment_gateways.c.id == payments.c.gateway_id
        ),
    ),
    ExportKind.LEDGER: (ledger_entries, ledger_entries.join(users, users.c.id == ledger_entries.c.user_id)),
}


def export_columns(kind: ExportKind) -> list[ExportColumn]:
    return _COLUMNS[kind]


class Exports:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def id_range(self, kind: ExportKind, since: datetime, until: datetime) -> tuple[int, int]:
        """The ids rows created in ``[since, until)`` can have: ``first <= id < end``."""
        table = _FROM[kind][0]
        reports = Reports(self._conn)
        return await reports.first_id_since(table, since), await reports.first_id_since(table, until)

    async def chunk(
        self, kind: ExportKind, *, after: int, end: int, since: datetime, until: datetime, limit: int
    ) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows with ``after < id < end`` created in the window, by id; the id comes first."""
        table, joined = _FROM[kind]
        query = (
            sa.select(*(column.column for column in _COLUMNS[kind]))
            .select_from(joined)
            .where(
                table.c.id > after,
                table.c.id < end,
                table.c.created_at >= since,
                table.c.created_at < until,
            )
            .order_by(table.c.id)
            .limit(limit)
        )
        return [tuple(row) for row in await self._conn.execute(query)]
