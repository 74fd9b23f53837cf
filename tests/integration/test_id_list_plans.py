"""The reads of a list of a customer's ids probe the primary key, however many orders the customer has.

A reseller with tens of thousands of orders polls ``status`` of 100 of them at a time. With
``user_id = $1`` beside the ids, PostgreSQL's generic plan of the prepared statement (the one
asyncpg's statements fall into after five runs) walked that customer's whole history through the
``(user_id, status, id)`` index, 48 times slower at 20,000 orders (benchmarks/RESULTS.md). The
reads now ask by id alone and check the owner on the rows. Each statement they send is planned
here as the server would plan it after five runs: PostgreSQL with ``force_generic_plan``, SQLite
with ``EXPLAIN QUERY PLAN``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import sqlalchemy as sa

from benchmarks.loader import OrderSpec, create_customers, create_panel, load_orders
from smmpanel.db import direct_reads as direct_reads_module
from smmpanel.db.direct_reads import direct_reads
from smmpanel.db.engine import create_engine
from smmpanel.db.unit_of_work import Database

BIG_CUSTOMER_ORDERS = 12_000
OTHER_CUSTOMERS = 4_000


async def _load(database_url: str) -> tuple[int, list[int], list[int]]:
    """A customer with many orders among thousands who have one each: (customer, theirs, others')."""
    panel = await create_panel(database_url, provider_url="http://127.0.0.1:9/api/v2", provider_key="k")
    others = [user_id for user_id, _ in await create_customers(database_url, OTHER_CUSTOMERS)]
    theirs = await load_orders(database_url, panel, OrderSpec(BIG_CUSTOMER_ORDERS), analyze=False)
    spec = OrderSpec(OTHER_CUSTOMERS, user_ids=others, first_provider_order_id=BIG_CUSTOMER_ORDERS + 1)
    foreign = await load_orders(database_url, panel, spec)
    return panel.user_id, list(theirs), list(foreign)


def _statements(database_url: str, customer: int, wanted: list[int]) -> list[tuple[str, Any]]:
    """What ``Orders.of_customer`` sends for ``wanted``, with its parameters; checks its answer and
    the direct reads' (API v2 ``status``) answer."""

    async def capture() -> list[tuple[str, Any]]:
        db = Database(database_url, pool_size=1)
        seen: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            seen.append((statement, parameters))

        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        reads = direct_reads(db.engine.url, 1)
        try:
            async with db.read() as repos:
                found = await repos.orders.of_customer(customer, wanted)
            progress = await reads.progress(customer, wanted)
        finally:
            await reads.close()
            sa.event.remove(db.engine.sync_engine, "before_cursor_execute", record)
            await db.close()
        assert sorted(found) == sorted(progress) == sorted(wanted[:50])  # the other 50 are someone else's
        return seen

    return asyncio.run(capture())


async def _plans(database_url: str, statements: list[tuple[str, Any]]) -> list[str]:
    """The plan of each statement as the server plans it once it is cached (see the module's text)."""
    engine = create_engine(database_url, pool_size=1)
    plans: list[str] = []
    try:
        async with engine.connect() as conn:
            if database_url.startswith("sqlite"):
                for statement, parameters in statements:
                    rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", tuple(parameters))
                    plans.append("; ".join(str(row[-1]) for row in rows))
                return plans
            await conn.exec_driver_sql("ANALYZE orders")
            await conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
            for number, (statement, parameters) in enumerate(statements):
                await conn.exec_driver_sql(f"PREPARE listed_{number} AS {statement}")
                arguments = ", ".join(_literal(value) for value in parameters)
                rows = await conn.exec_driver_sql(f"EXPLAIN EXECUTE listed_{number}({arguments})")
                plans.append("; ".join(str(row[0]).strip() for row in rows))
    finally:
        await engine.dispose()
    return plans


def _literal(value: object) -> str:
    if isinstance(value, list | tuple):
        return "'{" + ",".join(str(int(item)) for item in value) + "}'"
    return str(int(value))  # type: ignore[call-overload]


def test_a_status_of_many_ids_probes_the_primary_key_for_a_customer_with_many_orders(database_url: str) -> None:
    customer, theirs, foreign = asyncio.run(_load(database_url))
    wanted = [*theirs[-50:], *foreign[:50]]
    statements = _statements(database_url, customer, wanted)
    direct_sql = direct_reads_module._PROGRESS.format(
        "id = ANY($1::bigint[])" if not database_url.startswith("sqlite") else "id IN (" + ", ".join("?" * 100) + ")",
        table="orders",
    )
    plans = asyncio.run(_plans(database_url, [*statements, (direct_sql, [wanted] if "ANY" in direct_sql else wanted)]))

    assert len(plans) == 2, plans  # of_customer found every id in the hot table; then the status read
    for plan in plans:
        assert not re.search(r"user_id", plan), plan
        if database_url.startswith("sqlite"):
            assert "USING INTEGER PRIMARY KEY" in plan, plan
        else:
            assert "pk_orders" in plan, plan
