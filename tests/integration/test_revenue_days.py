"""Revenue per day kept by a trigger on the ledger (migration 0031): the overview never sums the ledger.

Charges, refunds and the entries that are not revenue (top-ups, adjustments) are written for real
through the use cases on both back ends, and the overview's revenue per day is compared with a
plain ``GROUP BY`` over the ledger itself, before and after a fold.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from smmpanel.clock import utcnow
from smmpanel.db.migrate import alembic_config, upgrade
from smmpanel.db.report_repositories import day_of
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases import accounts, operations, reports
from smmpanel.usecases import orders as order_cases
from tests.support.panel import Panel


@pytest.fixture
def panel(database_url: str) -> Iterator[Panel]:
    driver = Panel(database_url)
    yield driver
    driver.close()


def _place(panel: Panel, count: int) -> list[int]:
    panel.customer("alice", balance="100")
    service = panel.service(rate="0.90")

    async def work(db: Database) -> list[int]:
        user = next(user for user in await accounts.list_customers(db) if user.username == "alice")
        params = {"service": str(service), "quantity": "1000"}
        return [
            await order_cases.place_order(db, user.id, {**params, "link": f"https://x.com/p/{n}"}) for n in range(count)
        ]

    return panel.run(work)


def _truth(panel: Panel) -> dict[date, int]:
    """What a scan of the ledger says: minus the charges and refunds, per day."""

    async def work(db: Database) -> dict[date, int]:
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                sa.text(
                    "SELECT date(created_at), -sum(amount) FROM ledger_entries"
                    " WHERE kind IN ('charge', 'refund') GROUP BY date(created_at)"
                )
            )
            return {day_of(day): int(total) for day, total in rows}

    return panel.run(work)


def _kept(panel: Panel, *, fold: bool) -> dict[date, int]:
    async def work(db: Database) -> dict[date, int]:
        if fold:
            await operations.fold_counts(db)
        async with db.read() as repos:
            return await repos.reports.revenue_by_day(date(2000, 1, 1))

    return panel.run(work)


def test_revenue_follows_every_charge_and_refund_and_nothing_else(panel: Panel) -> None:
    ids = _place(panel, 3)
    panel.update_order(ids[0], "Partial", remains=500)  # refunds 0.45
    panel.update_order(ids[1], "Canceled")  # refunds 0.90
    panel.update_order(ids[2], "Completed")
    panel.customer("bob", balance="25")  # a top-up: not revenue
    assert _kept(panel, fold=False) == _truth(panel) == {utcnow().date(): 90_000 + 90_000 + 90_000 - 45_000 - 90_000}
    assert _kept(panel, fold=True) == _truth(panel)
    assert _kept(panel, fold=True) == _truth(panel)  # a second fold, with nothing new, changes nothing
    figures = panel.run(reports.overview)
    assert figures.today.revenue == 135_000 and figures.revenue == 135_000


def test_the_migration_counts_the_entries_already_there(panel: Panel) -> None:
    ids = _place(panel, 2)
    panel.update_order(ids[0], "Canceled")
    script = ScriptDirectory.from_config(alembic_config(panel.database_url))
    before = script.get_revision("0031").down_revision
    assert isinstance(before, str)
    command.downgrade(alembic_config(panel.database_url), before)
    yesterday = (utcnow() - timedelta(days=1)).isoformat(sep=" ")
    panel.sql(sa.text(f"UPDATE ledger_entries SET created_at = '{yesterday}' WHERE kind = 'refund'"))
    upgrade(panel.database_url)
    assert (
        _kept(panel, fold=False)
        == _truth(panel)
        == {
            utcnow().date(): 180_000,
            (utcnow() - timedelta(days=1)).date(): -90_000,
        }
    )


def test_the_overview_reads_no_ledger_entries(panel: Panel) -> None:
    _place(panel, 2)
    seen: list[str] = []

    async def work(db: Database) -> None:
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
        await reports.overview(db)

    panel.run(work)
    assert [text for text in seen if "ledger_entries" in text] == []
    assert any("revenue_days" in text for text in seen)
