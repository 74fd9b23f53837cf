"""Archived orders answer as they did in the readers ``test_order_archive`` does not cover, on both back ends.

The CSV export, the admin API's order lists (v2 and v1), ``smmpanel order list``, a customer's
refills and the services' average times are each recorded before the orders move and asked
again after, byte for byte. The twin check (a provider's order id belongs to one local order)
answers the same whether the order that holds the id is archived or not (migration 0028).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command

from smmpanel.clock import utcnow
from smmpanel.db.dispatch_repositories import ATTENTION, DONE, SENT
from smmpanel.db.export_repositories import ExportKind
from smmpanel.db.migrate import alembic_config, upgrade
from smmpanel.db.tables import orders, orders_archive
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.periods import day_range
from smmpanel.domain.refills import RefillStatus
from smmpanel.errors import Refused
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, archive, exports, fulfilment, providers
from smmpanel.usecases import orders as order_cases
from smmpanel.usecases import refills as refill_cases
from tests.support.adminapi import admin_key, admin_panel
from tests.support.cli import Cli
from tests.support.engine import order_of
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"
CSRF = re.compile(r'name="csrf_token" value="[^"]+"')


@pytest.fixture
def panel(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Panel]:
    with admin_panel(database_url, start_server) as driver:
        yield driver


def _ids(panel: Panel, table: sa.Table) -> list[object]:
    return [row[0] for row in panel.sql(sa.select(table.c.id).order_by(table.c.id))]


def _login(panel: Panel, username: str) -> httpx.Client:
    assert panel.api_url is not None
    http = httpx.Client(base_url=panel.api_url.removesuffix("/api/v2"), timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text)
    assert token is not None
    login = http.post("/login", data={"csrf_token": token.group(1), "username": username, "password": PASSWORD})
    assert login.status_code == 303, login.text
    return http


def test_exports_admin_api_order_list_refills_and_averages_answer_byte_for_byte(panel: Panel, tmp_path: Path) -> None:
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("100"), password=PASSWORD))
    panel.run(lambda db: accounts.create_customer(db, "bob", parse_amount("100")))
    people = {user.username: user.id for user in panel.run(accounts.list_customers)}
    service = panel.service(rate="0.01", min=1)

    async def place(db: Database) -> list[int]:
        return [
            await order_cases.place_order(
                db,
                people["bob" if n % 3 == 0 else "alice"],
                {"service": str(service), "quantity": "100", "link": f"https://x.test/{n}"},
            )
            for n in range(12)
        ]

    placed = panel.run(place)
    running = placed[4]
    for order_id in placed:
        if order_id == running:
            continue
        if order_id % 4 == 0:
            panel.update_order(order_id, "Partial", remains=40)
        else:
            panel.update_order(order_id, "Completed")
    refilled = placed[1]
    outcome = panel.run(lambda db: refill_cases.request_refills(db, people["alice"], [refilled]))[refilled]
    assert isinstance(outcome, int), outcome
    panel.run(lambda db: refill_cases.update_refill(db, outcome, RefillStatus.COMPLETED))
    then = utcnow() - timedelta(days=200)  # placed two hours before they finished, 200 days ago
    panel.sql(
        orders.update()
        .where(orders.c.id.in_(placed))
        .values(created_at=then - timedelta(hours=2), updated_at=then, finished_at=then),
    )
    boss, alice = _login(panel, "boss"), _login(panel, "alice")
    client = admin_key(panel)
    cli = Cli(panel.database_url, tmp_path)
    days = day_range(str((then - timedelta(days=1)).date()), str(utcnow().date()))

    def export(chunk: int) -> Callable[[], bytes]:
        async def work(db: Database) -> bytes:
            return "".join(
                [piece async for piece in exports.export_csv(db, ExportKind.ORDERS, days, chunk=chunk)]
            ).encode()

        return lambda: panel.run(work)

    def get(http: httpx.Client, path: str, **query: str) -> Callable[[], bytes]:
        return lambda: CSRF.sub("", http.get(path, params=query).text).encode()

    def admin(path: str, **query: object) -> Callable[[], bytes]:
        return lambda: client.request("GET", path, **query).content

    asked = [
        export(1000),
        export(2),  # chunks that end inside one table and go on in the other
        get(boss, "/admin/reports/export", kind="orders", **{"from": str(days.first), "to": str(days.last)}),
        admin("/adminapi/v2/orders"),
        admin("/adminapi/v2/orders", sort="date-asc", limit=3, offset=2),
        admin("/adminapi/v2/orders", limit=4, offset=5),
        admin("/adminapi/v2/orders", order_status="completed", user="alice"),
        admin("/adminapi/v2/orders", ids=",".join(str(n) for n in placed[::2])),
        admin("/adminapi/v2/orders", created_from=str(int((then - timedelta(days=1)).timestamp()))),
        *(admin(f"/adminapi/v2/orders/{n}") for n in placed[:3]),
        lambda: (
            client.http.post(
                client.base_url + "/adminapi/v1",
                data={"key": client.key, "action": "getOrders-by-id", "orders": ",".join(str(n) for n in placed)},
            ).content
        ),
        lambda: cli.text("order", "list").encode(),
        lambda: str(cli.json("order", "list", "--user", "bob", "--status", "Completed", "--limit", "2")).encode(),
        get(alice, "/refills"),
        services := get(alice, "/services"),
        get(alice, "/orders/new"),
    ]
    before = [ask() for ask in asked]
    assert before[0].count(b"\n") == 1 + len(placed) and before[0] == before[1]
    assert f'"count":{len(placed)}'.encode() in before[3]
    assert b'<td class="average">2 h</td>' in before[asked.index(services)]  # from these orders' times

    panel.run(lambda db: archive.archive_orders(db, 180, 3))
    assert _ids(panel, orders) == [running]
    assert _ids(panel, orders_archive) == [n for n in placed if n != running]
    assert [ask() for ask in asked] == before
    boss.close()
    alice.close()


def _queued(panel: Panel, key: str, count: int) -> list[int]:
    """``count`` orders forwarded to a provider that is never called here."""
    panel.run(lambda db: providers.add_provider(db, "upstream", "http://127.0.0.1:9/api/v2", "k"))
    panel.run(lambda db: providers.link_service(db, 1, "upstream", 11, 0))
    return [
        int(panel.call(key, "add", service=1, link="https://x.test/twin", quantity=100)["order"]) for _ in range(count)
    ]


async def _started(db: Database, order_ids: list[int]) -> list[fulfilment.SendPlan]:
    now = utcnow()
    lease = now + timedelta(minutes=5)
    async with db.write() as repos:
        assert [claim.order_id for claim in await repos.dispatch.claim_to_send(now, lease, 100)] == order_ids
    plans = await fulfilment.plan_sends(db, order_ids)
    assert await fulfilment.start_sends(db, plans, lease, lease) == set(order_ids)
    return plans


def _answer_while_archiving(panel: Panel, plan: fulfilment.SendPlan) -> None:
    """The archiver holds the holder's move uncommitted while the provider's answer is recorded."""

    async def race(db: Database) -> None:
        other = Database(panel.database_url, pool_size=2, cache_seconds=0)
        try:
            async with db.write() as repos:
                moved, _ = await repos.orders.archive.move(utcnow() - timedelta(days=180), 10)
                assert len(moved) == 1
                answering = asyncio.create_task(fulfilment.sends_accepted(other, [(plan, 42)]))
                await asyncio.sleep(0.3)  # it meets the unique index (PostgreSQL) or the write lock (SQLite)
            await answering
        finally:
            await other.close()

    panel.run(race)


@pytest.mark.parametrize("holder_is", ["hot", "archived", "being archived"])
def test_an_upstream_id_an_archived_order_holds_is_a_twin_as_before(panel: Panel, holder_is: str) -> None:
    """At most once: the twin goes to the attention list, is never sent again, and the id stays with its holder."""
    key = panel.customer("alice", balance="10")
    assert panel.service(rate="0.90") == 1
    holder, second = _queued(panel, key, 2)

    async def first_sent(db: Database) -> fulfilment.SendPlan:
        first, other = await _started(db, [holder, second])
        await fulfilment.sends_accepted(db, [(first, 42)])
        return other

    plan = panel.run(first_sent)
    then = utcnow() - timedelta(days=200)
    finished = {"status": "Completed", "remains": 0, "dispatch": DONE, "updated_at": then, "finished_at": then}
    panel.sql(orders.update().where(orders.c.id == holder).values(**finished))
    if holder_is == "archived":
        panel.run(lambda db: archive.archive_orders(db, 180))
    if holder_is == "being archived":
        _answer_while_archiving(panel, plan)
    else:
        panel.run(lambda db: fulfilment.sends_accepted(db, [(plan, 42)]))
    archived = holder_is != "hot"
    assert _ids(panel, orders_archive) == ([holder] if archived else [])
    twin = order_of(panel, second)
    assert (twin.dispatch, twin.provider_order_id) == (ATTENTION, None)
    assert twin.attention_reason == f"upstream answered order id 42, which it already gave for order {holder}"
    with pytest.raises(Refused, match=f"^the provider's order 42 is already order {holder}'s$"):
        panel.run(lambda db: fulfilment.set_upstream(db, second, 42))
    assert order_of(panel, holder).provider_order_id == "42"
    assert _ids(panel, orders_archive) == ([holder] if archived else [])

    async def written(db: Database) -> None:  # what every writer does first: the order moves back
        async with db.write() as repos:
            assert await repos.orders.get(holder, for_update=True) is not None

    panel.run(written)
    assert order_of(panel, holder).provider_order_id == "42" and _ids(panel, orders_archive) == []
    panel.run(lambda db: fulfilment.set_upstream(db, second, 43))
    assert (order_of(panel, second).dispatch, order_of(panel, second).provider_order_id) == (SENT, "43")
    assert panel.ledger_ok()


def test_migration_0028_leaves_each_upstream_id_to_its_oldest_order(panel: Panel) -> None:
    key = panel.customer("alice", balance="10")
    assert panel.service(rate="0.90") == 1
    holder, hot_twin, archived_twin = _queued(panel, key, 3)
    then = utcnow() - timedelta(days=200)
    finished = {"status": "Completed", "remains": 0, "dispatch": DONE, "updated_at": then, "finished_at": then}
    panel.sql(orders.update().where(orders.c.id == holder).values(provider_id=1, provider_order_id="42", **finished))
    panel.run(lambda db: archive.archive_orders(db, 180))
    config = alembic_config(panel.database_url)
    command.downgrade(config, "0028-1")  # the twins the archive let through before 0028
    values = {"provider_id": 1, "provider_order_id": "42"}
    panel.sql(orders.update().where(orders.c.id == archived_twin).values(**values, **finished))
    panel.sql(
        orders_archive.insert().from_select(
            list(orders.c.keys()), sa.select(orders).where(orders.c.id == archived_twin)
        ),
    )
    panel.sql(orders.delete().where(orders.c.id == archived_twin))
    panel.sql(orders.update().where(orders.c.id == hot_twin).values(dispatch=SENT, **values))
    upgrade(panel.database_url)
    reason = "its provider gave order id 42 to an older order too"
    assert order_of(panel, holder).provider_order_id == "42"
    for twin, dispatch in ((hot_twin, ATTENTION), (archived_twin, DONE)):
        order = order_of(panel, twin)
        assert (order.provider_order_id, order.attention_reason, order.dispatch) == (None, reason, dispatch)
    with pytest.raises(sa.exc.IntegrityError):  # from now on the database refuses such a twin itself
        panel.sql(orders.update().where(orders.c.id == hot_twin).values(provider_order_id="42"))
