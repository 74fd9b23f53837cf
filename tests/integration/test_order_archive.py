"""Finished orders archived (``smmpanel.db.order_archive``) answer exactly as they did, on both back ends.

Every answer is recorded over real HTTP before the orders move (API v2 in both styles, the
customer's and the operator's pages), then asked again and compared byte for byte; the kept
counts, the balances and the ledger must not move either. Refills racing the archiver are
driven with the order's row held by each side in turn.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from smmpanel.clock import utcnow
from smmpanel.db.tables import orders, orders_archive, refills
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.refills import RefillStatus
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, archive, operations
from smmpanel.usecases import orders as order_cases
from smmpanel.usecases import refills as refill_cases
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"
CSRF = re.compile(r'name="csrf_token" value="[^"]+"')


@dataclass
class Site:
    panel: Panel
    server: LiveServer | None
    key: str
    user_id: int


@pytest.fixture(params=["perfectpanel", "viralhub"])
def site(request: pytest.FixtureRequest, database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Site]:
    server = start_server(api_style=request.param)
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    key = panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("100"), password=PASSWORD)).api_key
    user_id = next(user.id for user in panel.run(accounts.list_customers) if user.username == "alice")
    yield Site(panel, server, key, user_id)
    panel.close()


@pytest.fixture
def quiet(database_url: str) -> Iterator[Site]:
    """A panel without a server, for the races: driven through the use cases."""
    panel = Panel(database_url)
    key = panel.customer("alice", balance="100")
    user_id = next(user.id for user in panel.run(accounts.list_customers) if user.username == "alice")
    yield Site(panel, None, key, user_id)
    panel.close()


def _session(server: LiveServer | None, username: str) -> httpx.Client:
    assert server is not None
    http = httpx.Client(base_url=server.base_url, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text)
    assert token is not None
    login = http.post("/login", data={"csrf_token": token.group(1), "username": username, "password": PASSWORD})
    assert login.status_code == 303, login.text
    return http


def _place(site: Site, count: int) -> list[int]:
    service = site.panel.service(rate="0.01", min=1)

    async def work(db: Database) -> list[int]:
        params = {"service": str(service), "quantity": "100"}
        return [
            await order_cases.place_order(db, site.user_id, {**params, "link": f"https://x.test/{n}"})
            for n in range(count)
        ]

    return site.panel.run(work)


def _age(panel: Panel, ids: list[int], days: int) -> None:
    """As if these orders had finished, and nobody had touched them since, ``days`` ago."""
    then = utcnow() - timedelta(days=days)

    async def work(db: Database) -> None:
        async with db.engine.begin() as conn:
            await conn.execute(orders.update().where(orders.c.id.in_(ids)).values(updated_at=then, finished_at=then))

    panel.run(work)


def _ids(panel: Panel, table: sa.Table) -> list[int]:
    async def work(db: Database) -> list[int]:
        async with db.engine.connect() as conn:
            return sorted(int(n) for n in (await conn.execute(sa.select(table.c.id))).scalars())

    return panel.run(work)


def _open_refills(panel: Panel) -> list[int]:
    async def work(db: Database) -> list[int]:
        async with db.engine.connect() as conn:
            query = sa.select(refills.c.order_id).where(refills.c.status == RefillStatus.PENDING.value)
            return sorted(int(n) for n in (await conn.execute(query)).scalars())

    return panel.run(work)


def _counts(panel: Panel) -> tuple[object, ...]:
    async def work(db: Database) -> tuple[object, ...]:
        async with db.read() as repos:
            kept = await repos.counts.by_status(), await repos.counts.by_dispatch()
        gauges = await operations.panel_gauges(db)  # folds the deltas
        return *kept, gauges.orders_by_status, gauges.queue_depths

    return panel.run(work)


def test_archived_orders_answer_byte_for_byte_and_keep_every_count(site: Site) -> None:
    panel, key = site.panel, site.key
    placed = _place(site, 9)
    done, partial, canceled, running, refilling = placed[:5]
    for order_id in [done, refilling, *placed[5:]]:
        panel.update_order(order_id, "Completed")
    panel.update_order(partial, "Partial", remains=40)
    panel.run(lambda db: order_cases.cancel_orders(db, site.user_id, [canceled]))
    _age(panel, [refilling], 3)  # inside its refill window: it gets a refill, still open
    assert "refill" in panel.call(key, "refill", order=str(refilling))
    _age(panel, placed, 200)
    alice, boss = _session(site.server, "alice"), _session(site.server, "boss")

    def api(**params: str) -> Callable[[], bytes]:
        return lambda: panel.post(key=key, **params).content

    def page(http: httpx.Client, path: str) -> Callable[[], bytes]:
        return lambda: CSRF.sub("", http.get(path).text).encode()

    everything = ",".join(str(n) for n in [*placed, 999_999])
    asked = [
        *(api(action="status", order=str(n)) for n in placed),
        api(action="status", orders=f"{everything},x"),
        api(action="refill", order=str(done)),
        api(action="refill", orders=f"{done},{partial},{canceled}"),
        api(action="cancel", order=str(done)),
        api(action="cancel", orders=f"{done},{canceled}"),
        *(page(alice, f"/orders/{n}") for n in placed),
        *(page(boss, f"/admin/orders/{n}") for n in placed),
        page(alice, "/orders"),
        page(alice, "/orders?status=Completed"),
        page(alice, "/orders?q=https://x.test/5"),
        page(boss, "/admin/orders"),
        page(boss, "/admin/orders?q=x.test/7"),
        page(boss, "/admin/orders?status=Completed"),
        page(boss, "/admin/reports?by=service"),
        page(boss, "/admin/reports?by=customer"),
    ]
    before = [ask() for ask in asked]
    assert b"Incorrect order ID" in before[len(placed)]  # the unknown id, the same before and after
    counts, balance = _counts(panel), panel.balance("alice")

    batches = archive_orders(panel, 180, batch=2)
    moved = [done, partial, canceled, *placed[5:]]  # not the running one, nor the one with an open refill
    assert _ids(panel, orders_archive) == moved and _ids(panel, orders) == [running, refilling]
    assert [b.moved for b in batches] == [2, 1, 1, 2, 1]  # windows of two ids: the kept ones leave gaps
    assert [ask() for ask in asked] == before
    assert _counts(panel) == counts and panel.balance("alice") == balance and panel.ledger_ok()
    assert archive_orders(panel, 180) == []  # a second run finds nothing more to move
    alice.close()
    boss.close()


def archive_orders(panel: Panel, days: int, *, batch: int = archive.DEFAULT_BATCH) -> list[archive.Batch]:
    return panel.run(lambda db: archive.archive_orders(db, days, batch))


def test_pages_walk_both_tables_without_skipping_or_repeating(site: Site) -> None:
    panel = site.panel
    placed = _place(site, 60)
    for order_id in placed[::2]:
        panel.update_order(order_id, "Completed")
    _age(panel, placed[::2], 30)
    archive_orders(panel, 7)
    assert _ids(panel, orders_archive) == placed[::2]
    alice, boss = _session(site.server, "alice"), _session(site.server, "boss")

    def walk(http: httpx.Client, start: str, pattern: str) -> list[int]:
        seen: list[int] = []
        url: str | None = start
        while url is not None:
            text = http.get(url).text
            seen += [int(n) for n in re.findall(pattern, text)]
            found = re.search(r'<a href="([^"]+)" rel="next">', text)
            url = found.group(1).replace("&amp;", "&") if found else None
        return seen

    newest_first = sorted(placed, reverse=True)
    assert walk(alice, "/orders", r'<tr>\s*<td><a href="/orders/(\d+)">\1</a>') == newest_first
    assert walk(boss, "/admin/orders", r'<td><a href="/admin/orders/(\d+)">\1</a></td>') == newest_first
    assert walk(alice, "/orders?status=Completed", r'<tr>\s*<td><a href="/orders/(\d+)">\1</a>') == newest_first[1::2]
    alice.close()
    boss.close()


def test_a_refill_holding_the_order_is_never_archived_away(quiet: Site) -> None:
    """The refill's writer holds the order first: the archiver skips it (or waits), then sees the refill."""
    panel = quiet.panel
    order_id = _place(quiet, 1)[0]
    panel.update_order(order_id, "Completed")
    _age(panel, [order_id], 5)

    async def race(db: Database) -> tuple[int, list[archive.Batch]]:
        other = Database(panel.database_url, pool_size=2, cache_seconds=0)
        try:
            async with db.write() as repos:
                order = await repos.orders.get(order_id, for_update=True)
                assert order is not None
                archiving = asyncio.create_task(archive.archive_orders(other, 1))
                await asyncio.sleep(0.3)  # the archiver meets the held row (PostgreSQL) or the write lock (SQLite)
                refill_id = await repos.refills.add(order_id, quiet.user_id, utcnow())
            return refill_id, await archiving
        finally:
            await other.close()

    refill_id, batches = panel.run(race)
    assert batches == [] and _ids(panel, orders_archive) == [] and _open_refills(panel) == [order_id]
    assert refill_id


def test_a_refill_of_an_order_being_archived_restores_it_and_is_kept(quiet: Site) -> None:
    """The archiver holds the order first: the refill waits, finds it archived, and moves it back."""
    panel = quiet.panel
    order_id = _place(quiet, 1)[0]
    panel.update_order(order_id, "Completed")
    _age(panel, [order_id], 5)  # five days: inside the service's 30-day refill window

    async def race(db: Database) -> dict[int, int | str]:
        other = Database(panel.database_url, pool_size=2, cache_seconds=0)
        try:
            async with db.write() as repos:
                assert await repos.orders.archive.move(utcnow() - timedelta(days=1), 10) == ([order_id], order_id)
                refilling = asyncio.create_task(refill_cases.request_refills(other, quiet.user_id, [order_id]))
                await asyncio.sleep(0.3)  # the refill meets the held row (PostgreSQL) or the write lock (SQLite)
            return await refilling
        finally:
            await other.close()

    outcome = panel.run(race)
    assert isinstance(outcome[order_id], int), outcome
    assert _ids(panel, orders) == [order_id] and _ids(panel, orders_archive) == []
    assert _open_refills(panel) == [order_id]
    assert archive_orders(panel, 1) == []  # an open refill keeps it in the hot table
    again = panel.run(lambda db: refill_cases.request_refills(db, quiet.user_id, [order_id]))
    assert again == outcome  # asked again: the same open refill


def test_a_refused_write_leaves_the_order_archived(quiet: Site) -> None:
    panel = quiet.panel
    order_id = _place(quiet, 1)[0]
    panel.update_order(order_id, "Completed")
    _age(panel, [order_id], 60)  # past the refill window

    def refused() -> tuple[object, object]:
        refill = panel.run(lambda db: refill_cases.request_refills(db, quiet.user_id, [order_id]))
        return refill, panel.run(lambda db: order_cases.cancel_orders(db, quiet.user_id, [order_id]))

    before = refused()
    assert all(isinstance(outcome[order_id], str) for outcome in before)  # type: ignore[index]
    archive_orders(panel, 30)
    assert _ids(panel, orders_archive) == [order_id]
    assert refused() == before
    assert _ids(panel, orders_archive) == [order_id] and _ids(panel, orders) == []
