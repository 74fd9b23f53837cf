"""Orders counted by triggers (migration 0023): the overview and ``/metrics`` never count the orders table.

Every way an order's count can move is driven for real on both back ends (placed through the
use case, moved by the operator, canceled, handed to the engine, deleted) and the kept counts
are compared with a plain ``GROUP BY`` over the orders themselves, before and after a fold.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from smmpanel.clock import utcnow
from smmpanel.db.migrate import alembic_config, upgrade
from smmpanel.db.tables import ledger_entries, orders
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.usecases import accounts, operations, reports
from smmpanel.usecases import orders as order_cases
from tests.support.engine import run_passes
from tests.support.panel import Panel

LINK = "https://instagram.com/p/counted"


@pytest.fixture
def panel(database_url: str) -> Iterator[Panel]:
    """The operator's side of a panel on the test's database, driven through the use cases."""
    driver = Panel(database_url)
    yield driver
    driver.close()


def _place(panel: Panel, count: int) -> list[int]:
    panel.customer("alice", balance="1000")
    service = panel.service()

    async def work(db: Database) -> list[int]:
        user = next(user for user in await accounts.list_customers(db) if user.username == "alice")
        params = {"service": str(service), "quantity": "100"}
        return [await order_cases.place_order(db, user.id, {**params, "link": f"{LINK}/{n}"}) for n in range(count)]

    return panel.run(work)


def _truth(panel: Panel) -> tuple[dict[str, int], dict[str, int]]:
    """What a scan of the orders says: per status, and per engine state."""

    async def work(db: Database) -> tuple[dict[str, int], dict[str, int]]:
        async with db.engine.connect() as conn:
            statuses = await conn.execute(sa.select(orders.c.status, sa.func.count()).group_by(orders.c.status))
            states = await conn.execute(
                sa.select(orders.c.dispatch, sa.func.count())
                .where(orders.c.dispatch.is_not(None))
                .group_by(orders.c.dispatch)
            )
            return {str(s): int(n) for s, n in statuses}, {str(s): int(n) for s, n in states}

    return panel.run(work)


def _kept(panel: Panel, *, fold: bool) -> tuple[dict[str, int], dict[str, int]]:
    async def work(db: Database) -> tuple[dict[str, int], dict[str, int]]:
        if fold:
            gauges = await operations.panel_gauges(db)
            return {k: v for k, v in gauges.orders_by_status.items() if v}, gauges.queue_depths
        async with db.read() as repos:
            return await repos.counts.by_status(), await repos.counts.by_dispatch()

    return panel.run(work)


def test_counts_follow_every_change_of_an_order(panel: Panel) -> None:
    ids = _place(panel, 6)
    assert _kept(panel, fold=False) == _truth(panel) == ({"Pending": 6}, {})
    panel.update_order(ids[0], "Completed")
    panel.update_order(ids[1], "In progress")
    panel.update_order(ids[1], "In progress", remains=10)  # no change of status: no delta
    panel.sql(orders.update().where(orders.c.id.in_(ids[2:5])).values(dispatch="queued"))
    panel.sql(orders.update().where(orders.c.id == ids[3]).values(dispatch="attention"))
    assert _kept(panel, fold=True) == _truth(panel)
    panel.sql(orders.update().where(orders.c.id == ids[4]).values(dispatch=None))
    panel.update_order(ids[5], "Canceled")
    panel.sql(ledger_entries.delete().where(ledger_entries.c.order_id == ids[0]))
    panel.sql(orders.delete().where(orders.c.id == ids[0]))
    expected = ({"Pending": 3, "In progress": 1, "Canceled": 1}, {"queued": 1, "attention": 1})
    assert _kept(panel, fold=False) == _truth(panel) == expected
    assert _kept(panel, fold=True) == expected
    assert _kept(panel, fold=True) == expected  # a second fold with nothing to fold changes nothing


def test_the_overview_counts_the_orders_of_its_window(panel: Panel) -> None:
    ids = _place(panel, 3)
    old = utcnow() - timedelta(days=45)
    panel.sql(orders.update().where(orders.c.id == ids[0]).values(created_at=old))  # not a real move:
    panel.sql(sa.text("DELETE FROM order_counts"))  # so recount, as migration 0023 does
    panel.sql(sa.text("DELETE FROM order_count_deltas"))
    day = "created_at::date" if not panel.database_url.startswith("sqlite") else "substr(created_at, 1, 10)"
    panel.sql(
        sa.text(
            f"INSERT INTO order_counts (day, status, dispatch, n, upstream_charge) SELECT {day}, status,"
            f" coalesce(dispatch, ''), count(*), 0 FROM orders GROUP BY {day}, status, coalesce(dispatch, '')"
        ),
    )
    panel.update_order(ids[1], "Completed")
    panel.sql(orders.update().where(orders.c.id.in_(ids)).values(upstream_charge=12_345))
    figures = panel.run(reports.overview)
    assert figures.cost == 2 * 12_345 and figures.today.cost == 2 * 12_345
    assert figures.orders_by_status == {status.value: 0 for status in OrderStatus} | {
        "Pending": 1,
        "Completed": 1,
    }
    gauges = panel.run(operations.panel_gauges)
    assert gauges.orders_by_status["Pending"] == 2 and gauges.orders_by_status["Completed"] == 1


def test_the_migration_counts_the_orders_already_there(panel: Panel) -> None:
    _place(panel, 4)
    panel.update_order(1, "Partial", remains=50)
    command.downgrade(alembic_config(panel.database_url), "0022")  # just before the counts
    panel.sql(orders.update().where(orders.c.id == 2).values(status="Completed", dispatch="sent"))
    upgrade(panel.database_url)
    assert _kept(panel, fold=False) == _truth(panel) == ({"Pending": 2, "Partial": 1, "Completed": 1}, {"sent": 1})

    async def today(db: Database) -> dict[str, int]:
        async with db.read() as repos:
            return await repos.counts.by_status(date.today() + timedelta(days=1))

    assert panel.run(today) == {}


def test_a_scrape_reads_no_table_that_grows_with_the_orders(panel: Panel) -> None:
    """Only the kept counts, and one probe of the (dispatch, next_attempt_at) index for the lag."""
    seen: list[str] = []
    _place(panel, 2)

    async def work(db: Database) -> None:
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
        await operations.panel_gauges(db)
        await reports.overview(db)

    panel.run(work)
    scans = [text for text in seen if "FROM orders" in text and "min(orders.next_attempt_at)" not in text]
    assert [text for text in scans if "GROUP BY" in text or "count(" in text] == []
    assert any("order_counts" in text for text in seen)


def test_the_engine_folds_the_counts_when_nobody_looks(panel: Panel) -> None:
    """No scrape, no overview: the engine's check pass keeps the delta tables short."""
    _place(panel, 3)
    panel.update_order(1, "Canceled")

    def deltas() -> tuple[int, int]:
        async def work(db: Database) -> tuple[int, int]:
            async with db.engine.connect() as conn:
                counted = await conn.execute(sa.text("SELECT count(*) FROM order_count_deltas"))
                earned = await conn.execute(sa.text("SELECT count(*) FROM revenue_deltas"))
                return int(counted.scalar_one()), int(earned.scalar_one())

        return panel.run(work)

    counted, earned = deltas()
    assert counted >= 4 and earned == 4  # three placed and one moved (two rows); three charges, a refund
    run_passes(panel)
    assert deltas() == (0, 0)
    assert _kept(panel, fold=False) == _truth(panel)
