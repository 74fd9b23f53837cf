"""The engine's batched writes on a real database: claims, the twin check, one array parameter.

Two ``Database`` objects are two workers' connection pools: their transactions race on the
server (PostgreSQL) or on the file's write lock (SQLite), as two worker processes' do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from smmpanel.clock import utcnow
from smmpanel.db.dispatch_repositories import ATTENTION, SENT
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import Refused
from smmpanel.usecases import fulfilment, providers
from tests.support.engine import next_attempt_of, order_of
from tests.support.panel import Panel, served_panel
from tests.support.server import LiveServer

LINK = "https://instagram.com/p/batches"


@pytest.fixture
def a_panel(start_server: Callable[..., LiveServer], database_url: str) -> Iterator[Panel]:
    with served_panel(start_server, database_url) as driver:
        yield driver


@pytest.fixture
def alice(a_panel: Panel) -> str:
    """Alice's key; she buys service 1 (100 cost 0.09) with 10.00."""
    key = a_panel.customer("alice", balance="10")
    assert a_panel.service(rate="0.90") == 1
    return key


def queue_orders(panel: Panel, key: str, count: int) -> list[int]:
    """``count`` orders of service 1, forwarded to a provider that is never called here."""
    panel.run(lambda db: providers.add_provider(db, "upstream", "http://127.0.0.1:9/api/v2", "k"))
    panel.run(lambda db: providers.link_service(db, 1, "upstream", 11, 0))
    placed = []
    for _ in range(count):
        answer = panel.call(key, "add", service=1, link=LINK, quantity=100)
        placed.append(int(answer["order"]))
    return placed


def two_workers(panel: Panel, work: Callable[[Database, Database], Any]) -> Any:
    async def both(_: Database) -> Any:
        first, second = Database(panel.database_url, pool_size=2), Database(panel.database_url, pool_size=2)
        try:
            return await work(first, second)
        finally:
            await first.close()
            await second.close()

    return panel.run(both)


async def claim_all(db: Database, worker: int) -> list[int]:
    """Claim 7 at a time until nothing is left; the ids this worker got."""
    mine: list[int] = []
    while True:
        now = utcnow()
        async with db.write() as repos:
            claims = await repos.dispatch.claim_to_send(now, now + timedelta(minutes=5), 7, None, worker)
        if not claims:
            return mine
        mine += [claim.order_id for claim in claims]
        await asyncio.sleep(0)


def test_two_workers_racing_for_batch_claims_never_claim_an_order_twice(a_panel: Panel, alice: str) -> None:
    placed = queue_orders(a_panel, alice, 60)

    async def race(first: Database, second: Database) -> tuple[list[int], list[int]]:
        one, two = await asyncio.gather(claim_all(first, 1), claim_all(second, 2))
        return one, two

    one, two = two_workers(a_panel, race)
    assert sorted(one + two) == sorted(placed)  # every order claimed, none by both
    assert not set(one) & set(two)
    claimed_by = {order_id: order_of(a_panel, order_id).dispatch for order_id in placed}
    assert set(claimed_by.values()) == {"claimed"}


async def started_plans(db: Database, order_ids: list[int]) -> list[fulfilment.SendPlan]:
    now = utcnow()
    lease = now + timedelta(minutes=5)
    async with db.write() as repos:
        claims = await repos.dispatch.claim_to_send(now, lease, 100)
    assert sorted(claim.order_id for claim in claims) == sorted(order_ids)
    plans = await fulfilment.plan_sends(db, order_ids)
    assert await fulfilment.start_sends(db, plans, lease, lease) == set(order_ids)
    return plans


@pytest.mark.parametrize("together", [False, True], ids=["two workers", "one batch"])
def test_an_upstream_id_answered_for_two_orders_is_kept_by_one_and_the_other_goes_to_attention(
    a_panel: Panel, alice: str, together: bool
) -> None:
    first_id, second_id = queue_orders(a_panel, alice, 2)

    async def answer_twice(first: Database, second: Database) -> None:
        one, two = await started_plans(first, [first_id, second_id])
        if together:
            await fulfilment.sends_accepted(first, [(one, 42), (two, 42)])
        else:
            await asyncio.gather(
                fulfilment.sends_accepted(first, [(one, 42)]), fulfilment.sends_accepted(second, [(two, 42)])
            )

    two_workers(a_panel, answer_twice)
    orders = sorted((order_of(a_panel, n) for n in (first_id, second_id)), key=lambda order: order.dispatch or "")
    held, sent = orders
    assert (sent.dispatch, sent.provider_order_id) == (SENT, "42")
    assert (held.dispatch, held.provider_order_id) == (ATTENTION, None)
    assert (next_attempt_of(a_panel, sent.id) is not None, next_attempt_of(a_panel, held.id)) == (True, None)
    assert held.attention_reason == f"upstream answered order id 42, which it already gave for order {sent.id}"
    assert [order.id for order in a_panel.run(lambda db: fulfilment.attention_list(db, 10))] == [held.id]
    assert a_panel.balance("alice") == "9.82"  # nothing refunded: the provider may have the second one too
    assert a_panel.ledger_ok()


def test_the_operator_cannot_link_an_order_to_an_upstream_id_another_order_has(a_panel: Panel, alice: str) -> None:
    first_id, second_id = queue_orders(a_panel, alice, 2)

    async def one_sent_one_ambiguous(db: Database, _: Database) -> None:
        one, two = await started_plans(db, [first_id, second_id])
        await fulfilment.sends_accepted(db, [(one, 7)])
        await fulfilment.send_ambiguous(db, two, "no answer")

    two_workers(a_panel, one_sent_one_ambiguous)
    with pytest.raises(Refused, match=f"^the provider's order 7 is already order {first_id}'s$"):
        a_panel.run(lambda db: fulfilment.set_upstream(db, second_id, 7))
    assert order_of(a_panel, second_id).dispatch == ATTENTION
    a_panel.run(lambda db: fulfilment.set_upstream(db, second_id, 8))
    assert (order_of(a_panel, second_id).dispatch, order_of(a_panel, second_id).provider_order_id) == (SENT, "8")


def test_statements_taking_many_ids_bind_one_array_on_postgresql(a_panel: Panel, alice: str) -> None:
    """asyncpg prepares each statement text: an ``IN ($2, …, $101)`` list would fall into
    PostgreSQL's generic plan after five runs (smmpanel.db.id_lists)."""
    placed = queue_orders(a_panel, alice, 3)
    wanted = [*placed, *range(10**6, 10**6 + 97)]  # 100 ids, most of them nobody's

    async def capture(db: Database, _: Database) -> list[tuple[str, Any]]:
        seen: list[tuple[str, Any]] = []

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            seen.append((statement, parameters))

        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        async with db.read() as repos:
            owner = (await repos.orders.many(placed))[placed[0]].user_id
            seen.clear()
            assert sorted(await repos.orders.of_customer(owner, wanted)) == placed
            assert sorted(await repos.orders.many(wanted)) == placed
            assert await repos.refills.of_customer(owner, wanted) == {}
        now = utcnow()
        async with db.write() as repos:
            claims = await repos.dispatch.claim_to_send(now, now + timedelta(minutes=5), 100)
            assert await repos.dispatch.release_sends(wanted, now) == len(claims) == 3
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", record)
        return seen

    seen = two_workers(a_panel, capture)
    hundred = [(statement, parameters) for statement, parameters in seen if sorted(wanted) == _ids_bound(parameters)]
    if a_panel.database_url.startswith("sqlite"):
        assert len(hundred) == 0  # one parameter per id on SQLite, which has no arrays
        assert sum("IN (" + "?, " * 99 + "?)" in statement for statement, _ in seen) == 4
    else:
        # of_customer, many, refills' of_customer, release_sends: each binds the 100 ids as one array
        assert len(hundred) == 4, seen
        assert all(" = ANY (" in statement for statement, _ in hundred), hundred
        assert not [statement for statement, _ in seen if "IN ($" in statement]


def _ids_bound(parameters: Any) -> list[int] | None:
    """The one parameter that is a list of ids, if the statement has one."""
    lists = [list(value) for value in parameters if isinstance(value, list | tuple)]
    return sorted(lists[0]) if len(lists) == 1 else None


def test_an_accepted_sends_first_status_check_is_one_sync_interval_later(a_panel: Panel, alice: str) -> None:
    """Asked at once, the provider would only say again that the order it just accepted is pending."""
    (order_id,) = queue_orders(a_panel, alice, 1)

    async def accept(db: Database, _: Database) -> datetime:
        (plan,) = await started_plans(db, [order_id])
        accepted = utcnow()
        await fulfilment.sends_accepted(db, [(plan, 9)], timedelta(seconds=30))
        return accepted

    accepted = two_workers(a_panel, accept)
    sent = order_of(a_panel, order_id)
    assert (sent.dispatch, sent.provider_order_id) == (SENT, "9")
    due = next_attempt_of(a_panel, order_id)
    assert due is not None and accepted + timedelta(seconds=30) <= due <= utcnow() + timedelta(seconds=30)
