"""Drive a panel as its operator (through the use cases) and as a reseller (over HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa

from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.orders import OrderStatus
from smmpanel.money import format_amount, parse_amount
from smmpanel.usecases import accounts, catalog, orders
from tests.support.server import ThreadedServer
from tests.support.threads import in_thread

T = TypeVar("T")


class Panel:
    def __init__(self, database_url: str, api_url: str | None = None) -> None:
        self.database_url = database_url
        self.api_url = api_url
        self.http = httpx.Client(timeout=30)

    def close(self) -> None:
        self.http.close()

    def run(self, work: Callable[[Database], Awaitable[T]]) -> T:
        async def scoped() -> T:
            # The operator's view is always the database's: no process cache (smmpanel.db.cache).
            db = Database(self.database_url, pool_size=2, cache_seconds=0)
            try:
                return await work(db)
            finally:
                await db.close()

        return in_thread(lambda: asyncio.run(scoped()))

    # operator side
    def customer(self, username: str = "alice", balance: str = "100") -> str:
        return self.run(lambda db: accounts.create_customer(db, username, parse_amount(balance))).api_key

    def service(self, **terms: Any) -> int:
        values: dict[str, Any] = {
            "name": "Followers",
            "category": "Instagram",
            "type": ServiceType.DEFAULT,
            "rate": parse_amount("0.90"),
            "min": 50,
            "max": 10000,
            "refill": True,
            "cancel": True,
        }
        values.update(terms)
        if isinstance(values["rate"], str):
            values["rate"] = parse_amount(values["rate"])
        return self.run(lambda db: catalog.create_service(db, catalog.ServiceChanges(**values)))

    def update_order(self, order_id: int, status: str | None = None, **fields: Any) -> None:
        change = orders.OrderUpdate(status=OrderStatus(status) if status else None, **fields)
        self.run(lambda db: orders.update_order(db, order_id, change))

    def balance(self, username: str = "alice") -> str:
        customers = self.run(accounts.list_customers)
        return next(format_amount(c.balance) for c in customers if c.username == username)

    def ledger_ok(self) -> bool:
        return not self.run(accounts.verify_ledger)

    def sql(self, *statements: sa.Executable) -> list[tuple[object, ...]]:
        """Run ``statements`` straight on the database, in one transaction: what no use case would do
        (backdating, deleting); answers the last one's rows, if it has any."""

        async def work(db: Database) -> list[tuple[object, ...]]:
            rows: list[tuple[object, ...]] = []
            async with db.engine.begin() as conn:
                for statement in statements:
                    result = await conn.execute(statement)
                    rows = [tuple(row) for row in result] if result.returns_rows else []
            return rows

        return self.run(work)

    # reseller side
    def post(self, **params: Any) -> httpx.Response:
        assert self.api_url is not None
        return self.http.post(self.api_url, data=params)

    def call(self, key: str, action: str, **params: Any) -> Any:
        response = self.post(key=key, action=action, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        return response.json()


@contextmanager
def served_panel(start_server: Callable[..., ThreadedServer], database_url: str) -> Iterator[Panel]:
    """A panel served on loopback (``start_server``, the conftest fixture), driven as operator and reseller."""
    driver = Panel(database_url, start_server().api_url)
    try:
        yield driver
    finally:
        driver.close()
