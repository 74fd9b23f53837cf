"""Bulk-load a panel for benchmarks: one customer, one service forwarded to one provider, and many orders.

Loading goes around the use cases on purpose (a benchmark needs 100,000 orders in
seconds, not minutes) but leaves the database as the panel itself would: every order
has its charge entry in the ledger, and each balance equals the sum of its entries.
PostgreSQL loads with ``COPY``, with triggers and foreign-key checks off for the load
(``session_replication_role``: the rows are made valid here) and, for a big load, the
secondary indexes of the orders and the ledger dropped first and built again after (one
sort each instead of ten million random inserts); the order counts the triggers keep
(migration 0023) are then added from the loaded rows in one grouped query. SQLite loads
with Core ``executemany`` (one prepared statement run over each batch inside one
transaction, which is what a multi-row ``INSERT`` saves on elsewhere), triggers and all.

Typical use::

    migrate(url)
    panel = await create_panel(url, provider_url="http://127.0.0.1:8100/api/v2", provider_key="simulator-key")
    ids = await load_orders(url, panel, OrderSpec(count=100_000, dispatch="sent"))
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.clock import utcnow
from smmpanel.db.count_repositories import OrderCounts
from smmpanel.db.engine import async_url, create_engine, is_sqlite
from smmpanel.db.migrate import upgrade
from smmpanel.db.report_repositories import Reports
from smmpanel.db.tables import (
    audit_log,
    ledger_entries,
    metadata,
    orders,
    payment_gateways,
    payments,
    providers,
    refills,
    service_providers,
    services,
    ticket_messages,
    tickets,
    users,
)
from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.ledger import EntryKind
from smmpanel.domain.orders import OrderStatus
from smmpanel.keys import hash_api_key, new_api_key
from smmpanel.money import Units, parse_amount, per_thousand_charge

SQLITE_BATCH = 10_000
PG_BATCH = 50_000
BULK = 500_000
"""From this many orders on, PostgreSQL loads without the secondary indexes and builds them after."""
BULK_TABLES = ("orders", "ledger_entries")
RECORDS_EVERY = {"refills": 100, "payments": 20, "tickets": 1000, "audit_log": 100}
"""``load_records``: one record of each kind per this many orders."""
GATEWAY = "bench-gateway"


@dataclass(frozen=True)
class Panel:
    """What ``create_panel`` made: the ids orders need, and the customer's API key (shown once)."""

    user_id: int
    username: str
    api_key: str
    service_id: int
    provider_id: int
    rate: Units
    """The service's price per 1000."""


@dataclass(frozen=True)
class OrderSpec:
    """A batch of orders of the panel's one service, alike but for their upstream id and, when
    given, their customer, status and link (each cycled through its sequence)."""

    count: int
    dispatch: str | None = "sent"
    """``sent`` (forwarded, due for a status sync), ``queued`` (due to be forwarded) or None (not forwarded)."""
    status: OrderStatus = OrderStatus.PENDING
    quantity: int = 1000
    remains: int | None = None
    """Defaults to the whole quantity."""
    start_count: int = 0
    first_provider_order_id: int = 1
    """``sent`` and ``done`` orders get provider order ids ``first, first + 1, …``; others get none."""
    upstream_status: OrderStatus | None = None
    upstream_charge: Units | None = None
    due: datetime | None = None
    """Their ``next_attempt_at``; default an hour ago, so the engine takes them at once."""
    link: str = "https://example.com/post"
    details: dict[str, Any] = field(default_factory=dict)
    user_ids: Sequence[int] = ()
    """The customer of each order in turn (cycled); empty: the panel's customer. Each is topped up by
    exactly what its orders cost, as the panel's customer is."""
    statuses: Sequence[OrderStatus] = ()
    """The status of each order in turn (cycled); empty: ``status``. Only statuses that owe no refund
    and no finish time (Pending, In progress, Processing) keep the data what the panel would hold."""
    links: Sequence[str] = ()
    """The link of each order in turn (cycled); empty: ``link``. Dashboard searches need many links."""
    numbered_links: bool = False
    """Each order's link is ``link`` followed by its own id (a link of its own, without a list of them)."""
    provider_ids: Sequence[int] = ()
    """The provider of each order in turn (cycled); empty: the panel's provider."""
    spread: timedelta | None = None
    """Placed evenly over this long before an hour ago, oldest first (as the ids go); None: all an hour
    ago. A big table spread over two years holds in a 30-day report what a real panel's does."""


def migrate(database_url: str) -> None:
    """Create the schema (Alembic, as ``smmpanel db upgrade``). Runs its own event loop."""
    upgrade(database_url)


async def empty(database_url: str) -> None:
    """Delete every row, and restart the ids, so a migrated database can be loaded again."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            tables = list(reversed(metadata.sorted_tables))
            if is_sqlite(async_url(database_url)):
                for table in tables:  # ids are plain INTEGER PRIMARY KEY: they restart from the largest left
                    await conn.execute(table.delete())
            else:
                names = ", ".join(table.name for table in tables)
                await conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await engine.dispose()


async def create_panel(
    database_url: str,
    *,
    provider_url: str,
    provider_key: str,
    provider_service_id: int = 1,
    rate: str = "1.00",
    balance: str = "1000.00",
    username: str = "bench",
) -> Panel:
    """One customer with ``balance``, one Default service at ``rate`` per 1000, linked to one provider."""
    now = utcnow()
    api_key = new_api_key()
    funds, price = parse_amount(balance), parse_amount(rate)
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            user_id = await _insert(
                conn, users, username=username, api_key_hash=hash_api_key(api_key), balance=funds, created_at=now
            )
            if funds:
                await conn.execute(
                    ledger_entries.insert().values(
                        user_id=user_id,
                        kind=EntryKind.TOPUP.value,
                        amount=funds,
                        balance_after=funds,
                        note="benchmark funds",
                        created_at=now,
                    )
                )
            service_id = await _insert(
                conn,
                services,
                name="Benchmark Followers",
                category="Benchmark",
                type=ServiceType.DEFAULT.value,
                rate=price,
                min=1,
                max=1_000_000,
                created_at=now,
                updated_at=now,
            )
            provider_id = await _insert(
                conn, providers, name="simulator", url=provider_url, api_key=provider_key, created_at=now
            )
            await _insert(
                conn,
                service_providers,
                service_id=service_id,
                provider_id=provider_id,
                provider_service_id=provider_service_id,
                priority=0,
                created_at=now,
            )
    finally:
        await engine.dispose()
    return Panel(user_id, username, api_key, service_id, provider_id, price)


async def create_customers(
    database_url: str, count: int, *, prefix: str = "customer", balance: str = "0"
) -> list[tuple[int, str]]:
    """``count`` more customers named ``<prefix><n>``, each with ``balance`` (and its ledger entry);
    returns their (id, API key) pairs, in order."""
    if count <= 0:
        return []
    now = utcnow()
    funds = parse_amount(balance)
    keys = [new_api_key() for _ in range(count)]
    rows = [
        {"username": f"{prefix}{n}", "api_key_hash": hash_api_key(key), "balance": funds, "created_at": now}
        for n, key in enumerate(keys, start=1)
    ]
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(users.insert(), rows)
            names = [row["username"] for row in rows]
            found = await conn.execute(
                sa.select(users.c.username, users.c.id).where(users.c.username.like(f"{prefix}%"))
            )
            ids = {name: int(user_id) for name, user_id in found}
            if funds:
                entry = {"kind": EntryKind.TOPUP.value, "amount": funds, "balance_after": funds, "created_at": now}
                await conn.execute(ledger_entries.insert(), [{"user_id": ids[name], **entry} for name in names])
    finally:
        await engine.dispose()
    return [(ids[name], key) for name, key in zip(names, keys, strict=True)]


async def create_providers(database_url: str, count: int, *, url: str, key: str) -> list[int]:
    """``count`` more providers named ``provider<n>``, all at ``url`` with ``key``; returns their ids."""
    now = utcnow()
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            return [
                await _insert(conn, providers, name=f"provider{n}", url=url, api_key=key, created_at=now)
                for n in range(1, count + 1)
            ]
    finally:
        await engine.dispose()


async def load_orders(database_url: str, panel: Panel, spec: OrderSpec, *, analyze: bool = True) -> range:
    """Insert ``spec.count`` orders with their ledger entries in one transaction; return their ids.

    The customer is topped up by exactly what the orders cost first, so the balance
    ends where it started. ``analyze`` refreshes PostgreSQL's planner statistics, as
    autovacuum would soon after such a load.
    """
    if spec.count <= 0:
        return range(0)
    sqlite = is_sqlite(async_url(database_url))
    charge = per_thousand_charge(panel.rate, spec.quantity)
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            before = int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(orders.c.id), 0)))).scalar_one())
            ids = range(before + 1, before + spec.count + 1)
            rebuild: list[str] = []
            if sqlite:  # the JSON column type encodes details
                await _executemany(conn, _order_rows(panel, spec, charge, spec.details, before))
            else:  # COPY takes JSON as text
                await conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                await conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
                await conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
                rebuild = await _drop_indexes(conn) if spec.count >= BULK else []
                await _copy(conn, _order_rows(panel, spec, charge, json.dumps(spec.details), before))
            loaded = await conn.execute(sa.select(sa.func.count()).select_from(orders).where(orders.c.id > before))
            if (
                loaded.scalar_one() != spec.count
                or ids[-1] != (await conn.execute(sa.select(sa.func.max(orders.c.id)))).scalar_one()
            ):
                raise RuntimeError("order ids are not contiguous: was something else writing to this database?")
            entries_before = (await conn.execute(sa.select(sa.func.max(ledger_entries.c.id)))).scalar_one() or 0
            await _charge_entries(conn, panel, ids, charge * spec.count)
            if not sqlite:
                for statement in rebuild:
                    await conn.exec_driver_sql(statement)
                await OrderCounts(conn).add_orders(ids[0], ids[-1])
                await Reports(conn).add_loaded_entries(entries_before)
        if analyze and not sqlite:
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("ANALYZE orders")
                await conn.exec_driver_sql("ANALYZE ledger_entries")
    finally:
        await engine.dispose()
    return ids


async def load_records(database_url: str, ids: range) -> None:
    """The records that come with the orders ``ids`` on a panel that has run for a while, one per
    ``RECORDS_EVERY`` orders of each kind, dated as their order: a finished refill, a failed payment
    (no money moved: the ledger stays as it is), a closed ticket with its message, an audit entry.
    The operator's pages over these tables then read as many rows as on such a panel."""
    every = {name: orders.c.id % n == 0 for name, n in RECORDS_EVERY.items()}
    loaded = orders.c.id.between(ids[0], ids[-1])
    about = sa.literal("order ") + sa.cast(orders.c.id, sa.String)
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            gateway = (
                await conn.execute(sa.select(payment_gateways.c.id).where(payment_gateways.c.name == GATEWAY))
            ).scalar()
            if gateway is None:
                now = utcnow()
                gateway = await _insert(
                    conn,
                    payment_gateways,
                    name=GATEWAY,
                    kind="manual",
                    display_name="Bank transfer",
                    config={},
                    created_at=now,
                    updated_at=now,
                )
            made = orders.c.created_at
            sources = {
                refills: (
                    ["order_id", "user_id", "status", "dispatch", "synced_at", "created_at", "updated_at"],
                    [orders.c.id, orders.c.user_id, sa.literal("Completed"), sa.literal("done"), made, made, made],
                    every["refills"],
                ),
                payments: (
                    ["user_id", "gateway_id", "amount", "currency", "reference", "status", "created_at", "updated_at"],
                    [
                        orders.c.user_id,
                        sa.literal(gateway),
                        orders.c.charge,
                        sa.literal("USD"),
                        sa.literal("bench-") + sa.cast(orders.c.id, sa.String),
                        sa.literal("failed"),
                        made,
                        made,
                    ],
                    every["payments"],
                ),
                tickets: (
                    ["user_id", "subject", "order_id", "status", "unread_by_operator", "created_at", "updated_at"],
                    [orders.c.user_id, about, orders.c.id, sa.literal("Closed"), sa.false(), made, made],
                    every["tickets"],
                ),
                audit_log: (
                    ["actor", "action", "target", "created_at"],
                    [sa.literal("operator"), sa.literal("order.update"), about, made],
                    every["audit_log"],
                ),
            }
            for table, (columns, values, chosen) in sources.items():
                await conn.execute(table.insert().from_select(columns, sa.select(*values).where(loaded, chosen)))
            messages = sa.select(
                tickets.c.id, tickets.c.user_id, sa.false(), sa.literal("Where is my order?"), tickets.c.created_at
            ).where(tickets.c.order_id.between(ids[0], ids[-1]))
            columns = ["ticket_id", "author_id", "from_operator", "body", "created_at"]
            await conn.execute(ticket_messages.insert().from_select(columns, messages))
    finally:
        await engine.dispose()


async def _insert(conn: AsyncConnection, table: sa.Table, **values: Any) -> int:
    return int((await conn.execute(table.insert().values(**values).returning(table.c.id))).scalar_one())


_COLUMNS = (
    "user_id",
    "service_id",
    "link",
    "quantity",
    "details",
    "charge",
    "status",
    "start_count",
    "remains",
    "provider_id",
    "provider_order_id",
    "upstream_status",
    "upstream_charge",
    "dispatch",
    "next_attempt_at",
    "created_at",
    "updated_at",
    "finished_at",
)


async def _drop_indexes(conn: AsyncConnection) -> list[str]:
    """Drop the secondary indexes of ``BULK_TABLES`` (not those behind a constraint); return how to
    build them again."""
    found = await conn.execute(
        sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = ANY(:tables) AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint WHERE conindid = (quote_ident(indexname))::regclass)"
        ),
        {"tables": list(BULK_TABLES)},
    )
    rebuild = []
    for name, definition in found:
        await conn.exec_driver_sql(f'DROP INDEX "{name}"')
        rebuild.append(str(definition))
    return rebuild


def _order_rows(
    panel: Panel, spec: OrderSpec, charge: Units, details: object, before: int
) -> Iterator[tuple[Any, ...]]:
    """One tuple per order, in ``_COLUMNS`` order; ``before`` is the id before the first one's."""
    now = utcnow()
    created = now - timedelta(hours=1)
    due = spec.due if spec.due is not None else created
    remains = spec.quantity if spec.remains is None else spec.remains
    forwarded = spec.dispatch in ("sent", "done")
    waiting = spec.dispatch in ("sent", "queued")
    upstream = spec.upstream_status.value if spec.upstream_status is not None else None
    owners = spec.user_ids or (panel.user_id,)
    upstreams = spec.provider_ids or (panel.provider_id,)
    statuses = [status.value for status in spec.statuses] or [spec.status.value]
    finals = {status.value for status in OrderStatus if status.is_final}
    links = spec.links or (spec.link,)
    step = (spec.spread or timedelta(0)) / spec.count
    for i in range(spec.count):
        status = statuses[i % len(statuses)]
        placed = created - step * (spec.count - 1 - i) if spec.spread else created
        yield (
            owners[i % len(owners)],
            panel.service_id,
            f"{spec.link}{before + 1 + i}" if spec.numbered_links else links[i % len(links)],
            spec.quantity,
            details,
            charge,
            status,
            spec.start_count,
            remains,
            upstreams[i % len(upstreams)] if spec.dispatch is not None else None,
            str(spec.first_provider_order_id + i) if forwarded else None,
            upstream,
            spec.upstream_charge,
            spec.dispatch,
            due if waiting else None,
            placed,
            placed,
            placed if status in finals else None,
        )


async def _executemany(conn: AsyncConnection, rows: Iterator[tuple[Any, ...]]) -> None:
    statement = orders.insert()
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(dict(zip(_COLUMNS, row, strict=True)))
        if len(batch) == SQLITE_BATCH:
            await conn.execute(statement, batch)
            batch = []
    if batch:
        await conn.execute(statement, batch)


async def _copy(conn: AsyncConnection, rows: Iterator[tuple[Any, ...]]) -> None:
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == PG_BATCH:
            await raw.copy_records_to_table("orders", records=batch, columns=_COLUMNS)
            batch = []
    if batch:
        await raw.copy_records_to_table("orders", records=batch, columns=_COLUMNS)


async def _charge_entries(conn: AsyncConnection, panel: Panel, ids: range, total: Units) -> None:
    """Per customer: a top-up of what its orders cost, then each order's charge with the running
    balance, set-based (``panel`` and ``total`` describe the one-customer case, kept for callers)."""
    now = utcnow()
    loaded = orders.c.id.between(ids[0], ids[-1])
    spent = (
        sa.select(orders.c.user_id, sa.func.sum(orders.c.charge).label("total"))
        .where(loaded)
        .group_by(orders.c.user_id)
        .subquery()
    )
    columns = ["user_id", "kind", "amount", "balance_after", "order_id", "note", "created_at"]
    topups = sa.select(
        spent.c.user_id,
        sa.literal(EntryKind.TOPUP.value),
        spent.c.total,
        users.c.balance + spent.c.total,
        sa.null(),
        sa.literal("benchmark funds for loaded orders"),
        sa.literal(now, sa.DateTime()),
    ).join_from(spent, users, users.c.id == spent.c.user_id)
    await conn.execute(ledger_entries.insert().from_select(columns, topups.order_by(spent.c.user_id)))
    running = sa.func.sum(orders.c.charge).over(partition_by=orders.c.user_id, order_by=orders.c.id)
    source = (
        sa.select(
            orders.c.user_id,
            sa.literal(EntryKind.CHARGE.value),
            -orders.c.charge,
            users.c.balance + spent.c.total - running,
            orders.c.id,
            sa.literal("order ") + sa.cast(orders.c.id, sa.String),
            orders.c.created_at,
        )
        .join_from(orders, spent, spent.c.user_id == orders.c.user_id)
        .join(users, users.c.id == orders.c.user_id)
        .where(loaded)
    )
    await conn.execute(ledger_entries.insert().from_select(columns, source))
