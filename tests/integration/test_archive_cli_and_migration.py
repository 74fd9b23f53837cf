"""``smmpanel order archive`` as a real process, and migration 0025 down and up with orders archived."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from smmpanel.clock import utcnow
from smmpanel.db.migrate import alembic_config, upgrade
from smmpanel.db.tables import ledger_entries, orders, orders_archive
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases import accounts
from smmpanel.usecases import orders as order_cases
from tests.support.cli import Cli
from tests.support.engine import run_passes
from tests.support.panel import Panel


@pytest.fixture
def panel(database_url: str) -> Iterator[Panel]:
    driver = Panel(database_url)
    yield driver
    driver.close()


def _finished_long_ago(panel: Panel, count: int) -> list[int]:
    """``count`` orders of alice's, Completed 200 days ago (and one Pending, the first)."""
    panel.customer("alice", balance="100")
    service = panel.service(rate="0.01", min=1)
    user_id = panel.run(accounts.list_customers)[0].id

    async def work(db: Database) -> list[int]:
        params = {"service": str(service), "quantity": "10", "link": "https://x.test/old"}
        return [await order_cases.place_order(db, user_id, params) for _ in range(count + 1)]

    placed = panel.run(work)
    for order_id in placed[1:]:
        panel.update_order(order_id, "Completed")
    then = utcnow() - timedelta(days=200)
    panel.sql(orders.update().where(orders.c.id.in_(placed)).values(updated_at=then, finished_at=then))
    return placed


def _where(panel: Panel) -> tuple[list[object], list[object]]:
    hot = panel.sql(sa.select(orders.c.id).order_by(orders.c.id))
    cold = panel.sql(sa.select(orders_archive.c.id).order_by(orders_archive.c.id))
    return [row[0] for row in hot], [row[0] for row in cold]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--older-than", "0"], "expected a positive whole number, got '0'"),
        (["--older-than", "-3"], "expected a positive whole number, got '-3'"),
        (["--older-than", "ten"], "expected a positive whole number, got 'ten'"),
        ([], "the following arguments are required: --older-than"),
        (["--older-than", "30", "--batch", "0"], "expected a positive whole number, got '0'"),
        (["--older-than", "30", "--batch", "10001"], "expected at most 10000 orders per batch, got '10001'"),
    ],
)
def test_bad_input_is_one_line_and_a_failing_exit(
    database_url: str, tmp_path: Path, args: list[str], error: str
) -> None:
    assert error in Cli(database_url, tmp_path).fails("order", "archive", *args)


def test_the_command_moves_in_batches_and_prints_what_it_moved(panel: Panel, tmp_path: Path) -> None:
    placed = _finished_long_ago(panel, 5)
    cli = Cli(panel.database_url, tmp_path)
    assert cli.text("orders", "archive", "--older-than", "365") == (
        "archived 0 orders finished and untouched for 365 days\n"
    )
    text = cli.text("orders", "archive", "--older-than", "180", "--batch", "2")
    assert text == (  # windows of two ids; the Pending order stays
        f"batch: 1 moved, ids {placed[1]}-{placed[1]}\n"
        f"batch: 2 moved, ids {placed[2]}-{placed[3]}\n"
        f"batch: 2 moved, ids {placed[4]}-{placed[5]}\n"
        "archived 5 orders finished and untouched for 180 days\n"
    )
    assert _where(panel) == ([placed[0]], placed[1:])
    assert cli.json("order", "archive", "--older-than", "180") == {"archived": 0, "batches": [], "in_archive": 5}


def _counted(panel: Panel) -> dict[str, int]:
    async def work(db: Database) -> dict[str, int]:
        async with db.read() as repos:
            return await repos.counts.by_status()

    return panel.run(work)


def test_downgrade_brings_archived_orders_back_and_upgrade_again(panel: Panel, tmp_path: Path) -> None:
    placed = _finished_long_ago(panel, 3)
    cli = Cli(panel.database_url, tmp_path)
    cli.text("order", "archive", "--older-than", "180")
    assert _counted(panel) == {"Pending": 1, "Completed": 3}
    ledger = panel.sql(sa.select(ledger_entries).order_by(ledger_entries.c.id))
    command.downgrade(alembic_config(panel.database_url), "0024")
    hot = panel.sql(sa.select(orders.c.id).order_by(orders.c.id))
    assert [row[0] for row in hot] == placed
    assert panel.sql(sa.select(ledger_entries).order_by(ledger_entries.c.id)) == ledger
    assert panel.ledger_ok() and _counted(panel) == {"Pending": 1, "Completed": 3}
    # The foreign keys are back: an order with ledger entries cannot be deleted any more.
    with pytest.raises(sa.exc.IntegrityError):
        panel.sql(orders.delete().where(orders.c.id == placed[1]))
    upgrade(panel.database_url)
    assert _where(panel) == (placed, [])
    cli.text("order", "archive", "--older-than", "180")
    assert _where(panel) == ([placed[0]], placed[1:]) and _counted(panel) == {"Pending": 1, "Completed": 3}
    assert panel.sql(sa.select(ledger_entries).order_by(ledger_entries.c.id)) == ledger


def test_the_engine_archives_only_when_the_operator_turned_it_on(panel: Panel) -> None:
    placed = _finished_long_ago(panel, 2)
    run_passes(panel)  # SMMPANEL_ARCHIVE_AFTER_DAYS defaults to 0: never
    assert _where(panel) == (placed, [])
    run_passes(panel, archive_after_days=365)  # not old enough
    assert _where(panel) == (placed, [])
    run_passes(panel, 2, archive_after_days=180)
    assert _where(panel) == ([placed[0]], placed[1:])
