"""The write of an ``add`` (``OrderCharges.place_priced``): what it stores, and what a failure leaves.

On SQLite every statement of an ordinary order, from the customer's terms to the COMMIT, runs on
the raw ``sqlite3`` connection in one hop to its thread, past SQLAlchemy (issue #16 item 1). These
tests hold it to what SQLAlchemy's own path writes, and to the ledger's rules when it fails half-way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import ServiceType
from smmpanel.usecases import accounts, orders, providers
from tests.support.databases import SqliteTemplate
from tests.support.panel import Panel

LINK = "https://instagram.com/alice"
ORDER_ROW = sa.text(
    "SELECT created_at, updated_at, next_attempt_at, details, dispatch, status, charge, remains, quantity,"
    " runs, interval, user_id FROM orders WHERE id = :id"
)
_REFUSE_ORDERS = {
    "sqlite": ["CREATE TRIGGER refuse_order BEFORE INSERT ON orders BEGIN SELECT RAISE(ABORT, 'no order'); END"],
    "postgresql": [
        "CREATE FUNCTION refuse_order() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION 'no order'; END $$",
        "CREATE TRIGGER refuse_order BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse_order()",
    ],
}
_ACCEPT_ORDERS = {
    "sqlite": ["DROP TRIGGER refuse_order"],
    "postgresql": ["DROP TRIGGER refuse_order ON orders", "DROP FUNCTION refuse_order()"],
}


def _run_sql(panel: Panel, statements: dict[str, list[str]]) -> None:
    async def work(db: Database) -> None:
        async with db.engine.begin() as conn:
            for statement in statements[conn.dialect.name]:
                await conn.execute(sa.text(statement))

    panel.run(work)


def _row(panel: Panel, order_id: int) -> tuple[Any, ...]:
    async def work(db: Database) -> tuple[Any, ...]:
        async with db.engine.connect() as conn:
            return tuple((await conn.execute(ORDER_ROW, {"id": order_id})).one())

    return panel.run(work)


def test_an_ordinary_order_is_stored_as_the_checked_path_stores_it(database_url: str) -> None:
    """The same order placed once through the one write (a plain service) and once through the
    statement-by-statement path (a service with the duplicate-link rule) is stored alike: the same
    column types and text (dates, the JSON of its details), forwarded the same way, charged the same."""
    panel = Panel(database_url)
    try:
        panel.customer(balance="100")
        terms: dict[str, Any] = {"type": ServiceType.CUSTOM_COMMENTS, "rate": "12.00", "min": 1, "max": 500}
        plain, checked = panel.service(**terms), panel.service(**terms, deny_duplicate_link=True)
        panel.run(lambda db: providers.add_provider(db, "up", "https://upstream.test/api/v2", "k"))
        for service in (plain, checked):
            panel.run(lambda db, service=service: providers.link_service(db, service, "up", 11, 0))  # type: ignore[misc]
        user_id = next(c.id for c in panel.run(accounts.list_customers) if c.username == "alice")
        params = {"link": LINK, "comments": " nice \r\n\r\ngreat\n"}
        one_write = panel.run(lambda db: orders.place_order(db, user_id, {"service": str(plain), **params}))
        stepwise = panel.run(lambda db: orders.place_order(db, user_id, {"service": str(checked), **params}))
        fast, slow = _row(panel, one_write), _row(panel, stepwise)
        assert [type(value) for value in fast] == [type(value) for value in slow]
        assert fast[3:] == slow[3:]  # details, dispatch ("queued"), status, charge, remains, …, user_id
        assert fast[4] == "queued"
        assert fast[0] == fast[1] == fast[2] and len(str(fast[0])) == len(str(slow[0]))
        stored = panel.run(lambda db: orders.orders_of_customer(db, user_id, [one_write]))[one_write]
        assert (
            stored.details == {"comments": ["nice", "great"]} and stored.charge == 2_400
        )  # 12.00 per 1000, two comments
        _, entries = panel.run(lambda db: accounts.ledger_of(db, "alice", 10))
        charges = sorted((e.order_id or 0, e.amount, e.balance_after, e.note) for e in entries if e.kind == "charge")
        assert charges == [
            (one_write, -2_400, 9_997_600, f"order {one_write}"),
            (stepwise, -2_400, 9_995_200, f"order {stepwise}"),
        ]
        assert panel.ledger_ok()
    finally:
        panel.close()


def test_a_failure_after_the_debit_undoes_it_and_the_next_order_goes_through(panel: Panel) -> None:
    """The debit runs before the order's insert: when the insert fails (a trigger refuses it here),
    the debit is undone with it, the client is told to retry, and the connection that failed is
    left with no transaction open: the next order is charged once, as usual."""
    key = panel.customer(balance="10")
    service = panel.service(rate="1.00")
    order = {"key": key, "action": "add", "service": service, "link": LINK, "quantity": "1000"}
    _run_sql(panel, _REFUSE_ORDERS)
    try:
        for _ in range(3):  # each failure must leave its pooled connection clean for the next request
            failed = panel.post(**order)
            assert (failed.status_code, failed.json()) == (503, {"error": "Temporary failure, please retry"})
    finally:
        _run_sql(panel, _ACCEPT_ORDERS)
    assert panel.balance() == "10.00"
    assert panel.ledger_ok()
    placed = panel.call(key, "add", service=service, link=LINK, quantity="1000")
    assert panel.call(key, "status", order=str(placed["order"]))["charge"] == "1.00"
    assert panel.balance() == "9.00"
    assert panel.ledger_ok()


def test_a_one_hop_write_that_fails_is_a_database_error_and_leaves_nothing_open(
    tmp_path: Path, sqlite_template: SqliteTemplate
) -> None:
    """``Database.write_in_one_hop`` (SQLite only, where one-hop writes are): what its work wrote before
    failing is rolled back, the failure is SQLAlchemy's own error type (the CLI words those as a
    database error, not a stack trace), and the pooled connection is clean for the next write."""
    panel = Panel(sqlite_template.fresh(tmp_path))
    try:
        panel.customer(balance="5")

        def half_done(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE users SET balance = 0")
            conn.execute("INSERT INTO no_such_table VALUES (1)")

        async def work(db: Database) -> int:
            for _ in range(3):  # more failures than the pool has connections (2): each one came back clean
                with pytest.raises(OperationalError, match="no_such_table"):
                    await db.write_in_one_hop(half_done)
            return await db.write_in_one_hop(lambda conn: conn.execute("SELECT count(*) FROM users").fetchone()[0])

        assert panel.run(work) == 1
        assert panel.balance() == "5.00"
    finally:
        panel.close()
