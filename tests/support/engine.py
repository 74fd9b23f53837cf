"""The order engine in tests: passes in the test's own process, and the orders it moves."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.tables import orders, refills
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import Order
from smmpanel.engine.worker import Engine
from tests.support.panel import Panel

T = TypeVar("T")

ENGINE_SETTINGS: dict[str, Any] = {
    "sync_interval": 0,
    "retry_backoff": 0,
    "send_retries": 1,
    "http_timeout": 15.0,
    "http_connect_timeout": 2.0,
    "provider_check_interval": 0,
    "mail_retry_backoff": 0,
}
"""Every due item is due again at once: one pass of the engine does one step of everything.
The timeout is the deadline of a whole exchange: generous, for a loaded machine."""


def run_passes(panel: Panel, passes: int = 1, **settings: Any) -> list[int]:
    """``passes`` engine passes on the panel's database; how many items each one handled."""
    values = {"database_url": panel.database_url, **ENGINE_SETTINGS, **settings}

    async def work(db: Database) -> list[int]:
        engine = Engine(db, Settings(**values))
        try:
            return [await engine.run_pass() for _ in range(passes)]
        finally:
            await engine.aclose()

    return panel.run(work)


def order_of(panel: Panel, order_id: int) -> Order:
    async def work(db: Database) -> Order | None:
        async with db.read() as repos:
            return await repos.orders.get(order_id)

    found = panel.run(work)
    assert found is not None, f"no order {order_id}"
    return found


def all_orders(panel: Panel) -> list[Order]:
    """Every order of the panel, oldest first."""

    async def work(db: Database) -> list[Order]:
        async with db.read() as repos:
            listing = await repos.orders.listing(user_id=None, status=None, limit=1_000_000)
        return sorted((order for order, _ in listing), key=lambda order: order.id)

    return panel.run(work)


def status_counts(panel: Panel) -> dict[str, int]:
    """How many orders the panel has in each status: one cheap query, for polling."""

    async def work(db: Database) -> dict[str, int]:
        async with db.engine.connect() as conn:
            query = sa.select(orders.c.status, sa.func.count()).group_by(orders.c.status)
            return {str(row[0]): int(row[1]) for row in await conn.execute(query)}

    return panel.run(work)


def next_attempt_of(panel: Panel, order_id: int) -> datetime | None:
    """When the order is next due: a retry, a drip-feed run, or the lease of a send in flight."""

    async def work(db: Database) -> datetime | None:
        async with db.engine.connect() as conn:
            query = sa.select(orders.c.next_attempt_at).where(orders.c.id == order_id)
            found: datetime | None = (await conn.execute(query)).scalar_one()
            return found

    return panel.run(work)


def refill_row(panel: Panel, refill_id: int) -> dict[str, Any]:
    """A refill request as stored, with what the engine records about it."""

    async def work(db: Database) -> dict[str, Any]:
        async with db.engine.connect() as conn:
            row = (await conn.execute(sa.select(refills).where(refills.c.id == refill_id))).one()
            return dict(row._mapping)

    return panel.run(work)


def make_due(panel: Panel, order_id: int) -> None:
    """Rewind the order's next attempt (a drip-feed run, a lease) to a second ago."""

    async def work(db: Database) -> None:
        async with db.write() as repos:
            await repos.orders.update(order_id, {"next_attempt_at": utcnow() - timedelta(seconds=1)}, utcnow())

    panel.run(work)


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 20.0, every: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def refusing_address() -> Iterator[str]:
    """An API URL on a loopback port that is bound but never listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/v2"
