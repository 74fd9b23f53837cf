"""Money under concurrency: no overdraft, no double refund, balance always the sum of the ledger.

Requests are made to overlap for real: each one sends its headers and all but the last
byte of its body, then waits at a gate until every request of the burst has got that far;
only then are the last bytes released. So every request of a burst is inside the server
at the same moment. Operator updates run in threads, each on its own ``Database`` (as
separate operator processes would), released together by a barrier.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from smmpanel.db.repositories import LedgerEntry
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import Order, OrderStatus
from smmpanel.errors import Refused
from smmpanel.money import format_amount
from smmpanel.usecases import accounts, orders
from tests.support.panel import Panel
from tests.support.server import LiveServer

JSON_TYPE = "application/json; charset=utf-8"
RATE = "0.12345"  # 1000 units cost 0.12345: every charge and refund shows in the last digit
CHARGE = 12345  # in units of 1/100,000
NO_FUNDS = {"error": "Not enough funds on balance"}
CANCEL_REFUSED = {"error": "Cancel not available for this order"}


class Gate:
    """Holds back the last byte of every body until all ``parties`` requests are in flight."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.waiting = 0
        self.released = asyncio.Event()

    async def body(self, payload: bytes) -> AsyncIterator[bytes]:
        yield payload[:-1]
        self.waiting += 1
        if self.waiting == self.parties:
            self.released.set()
        await asyncio.wait_for(self.released.wait(), timeout=60)
        yield payload[-1:]


async def _burst(calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    gate = Gate(len(calls))
    limits = httpx.Limits(max_connections=len(calls), max_keepalive_connections=len(calls))
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    url,
                    content=gate.body(urlencode(fields).encode()),
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
                for url, fields in calls
            )
        )
    assert gate.waiting == len(calls)  # every request was inside the server before any could finish
    answers = []
    for response in responses:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == JSON_TYPE
        answers.append(response.json())
    return answers


def burst(calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Send all ``(url, fields)`` calls at the same moment; their JSON answers, in order."""
    return asyncio.run(_burst(calls))


def all_orders(panel: Panel) -> list[Order]:
    listing = panel.run(lambda db: orders.list_orders(db, username=None, status=None, limit=1_000_000))
    return sorted((order for order, _username in listing), key=lambda order: order.id)


def ledger(panel: Panel, username: str = "alice") -> list[LedgerEntry]:
    _customer, entries = panel.run(lambda db: accounts.ledger_of(db, username, 1_000_000))
    return entries


def assert_books_balance(panel: Panel, username: str = "alice") -> None:
    entries = ledger(panel, username)
    assert panel.balance(username) == format_amount(sum(entry.amount for entry in entries))
    assert panel.ledger_ok()


@pytest.fixture
def servers(panel: Panel, start_server: Callable[..., LiveServer]) -> list[str]:
    """Two API URLs on one database: the panel's own server and a second one, as two processes would be."""
    assert panel.api_url is not None
    return [panel.api_url, start_server().api_url]


def _add(key: str, service: int, n: int) -> dict[str, Any]:
    return {"key": key, "action": "add", "service": service, "link": f"https://x.test/post/{n}", "quantity": 1000}


def place(panel: Panel, key: str, service: int, n: int) -> int:
    answer = panel.call(key, "add", service=service, link=f"https://x.test/post/{n}", quantity=1000)
    assert isinstance(answer["order"], int), answer
    return int(answer["order"])


@pytest.mark.parametrize("server_count", [1, 2])
def test_two_hundred_simultaneous_adds_never_overdraw(panel: Panel, servers: list[str], server_count: int) -> None:
    key = panel.customer("alice", balance="6.1725")  # exactly 50 × 0.12345
    service = panel.service(rate=RATE, min=100, max=10000)
    urls = servers[:server_count]
    answers = burst([(urls[n % server_count], _add(key, service, n)) for n in range(200)])

    placed = [answer["order"] for answer in answers if "order" in answer]
    refused = [answer for answer in answers if answer == NO_FUNDS]
    assert len(placed) == 50
    assert len(refused) == 150
    assert all(answer == {"order": answer["order"]} for answer in answers if "order" in answer)
    assert all(isinstance(order_id, int) for order_id in placed)
    assert len(set(placed)) == 50

    assert panel.balance("alice") == "0.00"
    assert panel.call(key, "balance") == {"balance": "0.00", "currency": "USD"}
    stored = all_orders(panel)
    assert sorted(placed) == [order.id for order in stored]
    assert all(order.charge == CHARGE and order.status is OrderStatus.PENDING for order in stored)
    assert len({order.link for order in stored}) == 50
    entries = ledger(panel)
    assert Counter(entry.kind for entry in entries) == {"topup": 1, "charge": 50}
    assert sorted(entry.balance_after for entry in entries if entry.kind == "charge") == [CHARGE * n for n in range(50)]
    assert_books_balance(panel)


def test_simultaneous_adds_of_two_customers_do_not_mix(panel: Panel, servers: list[str]) -> None:
    alice = panel.customer("alice", balance="1.2345")  # 10 orders
    bob = panel.customer("bob", balance="2.50")  # 20 orders, 0.031 left
    service = panel.service(rate=RATE, min=100, max=10000)
    calls = []
    for n in range(60):
        calls.append((servers[n % 2], _add(alice, service, n)))
        calls.append((servers[(n + 1) % 2], _add(bob, service, n)))
    answers = burst(calls)
    alice_answers, bob_answers = answers[0::2], answers[1::2]
    assert sum("order" in answer for answer in alice_answers) == 10
    assert sum("order" in answer for answer in bob_answers) == 20
    assert [answer for answer in answers if "order" not in answer] == [NO_FUNDS] * 90
    assert panel.balance("alice") == "0.00"
    assert panel.balance("bob") == "0.031"
    assert_books_balance(panel, "alice")
    assert_books_balance(panel, "bob")


@pytest.mark.parametrize("server_count", [1, 2])
def test_thirty_simultaneous_cancels_refund_once(panel: Panel, servers: list[str], server_count: int) -> None:
    key = panel.customer("alice", balance="10")
    service = panel.service(rate=RATE, min=100, max=10000, cancel=True)
    order_id = place(panel, key, service, 1)
    assert panel.balance("alice") == "9.87655"

    urls = servers[:server_count]
    cancel = {"key": key, "action": "cancel", "orders": str(order_id)}
    answers = burst([(urls[n % server_count], cancel) for n in range(30)])

    success = [{"order": order_id, "cancel": 1}]
    refused = [{"order": order_id, "cancel": CANCEL_REFUSED}]
    assert answers.count(success) == 1
    assert answers.count(refused) == 29
    assert panel.balance("alice") == "10.00"
    (order,) = all_orders(panel)
    assert order.status is OrderStatus.CANCELED
    assert order.refunded == CHARGE
    refunds = [entry for entry in ledger(panel) if entry.kind == "refund"]
    assert [(entry.amount, entry.order_id, entry.balance_after) for entry in refunds] == [(CHARGE, order_id, 1_000_000)]
    assert_books_balance(panel)


def test_simultaneous_cancels_of_many_orders_in_one_list(panel: Panel, servers: list[str]) -> None:
    """Twenty requests, each cancelling the same five orders in a different order: five refunds in all."""
    key = panel.customer("alice", balance="1")
    service = panel.service(rate=RATE, min=100, max=10000, cancel=True)
    ids = [place(panel, key, service, n) for n in range(5)]
    assert panel.balance("alice") == "0.38275"
    calls = []
    for n in range(20):
        rotated = ids[n % 5 :] + ids[: n % 5]
        calls.append((servers[n % 2], {"key": key, "action": "cancel", "orders": ",".join(map(str, rotated))}))
    answers = burst(calls)
    outcomes: Counter[tuple[int, str]] = Counter()
    for answer in answers:
        assert sorted(item["order"] for item in answer) == ids
        for item in answer:
            outcomes[(item["order"], "ok" if item["cancel"] == 1 else item["cancel"]["error"])] += 1
    for order_id in ids:
        assert outcomes[(order_id, "ok")] == 1
        assert outcomes[(order_id, CANCEL_REFUSED["error"])] == 19
    assert panel.balance("alice") == "1.00"
    assert [entry.order_id for entry in ledger(panel) if entry.kind == "refund"].count(ids[0]) == 1
    assert sorted(entry.order_id or 0 for entry in ledger(panel) if entry.kind == "refund") == ids
    assert_books_balance(panel)


def _update_in_threads(panel: Panel, order_id: int, updates: list[orders.OrderUpdate]) -> list[Order | Refused]:
    """Run every update at once, each in its own thread on its own Database; results in the same order."""
    barrier = threading.Barrier(len(updates))
    results: list[Order | Refused | BaseException | None] = [None] * len(updates)

    def worker(index: int) -> None:
        async def work() -> Order | Refused:
            db = Database(panel.database_url, pool_size=2)
            try:
                async with db.read():  # connect before the barrier, so that only the update itself races
                    pass
                await asyncio.to_thread(barrier.wait, 60)
                try:
                    return await orders.update_order(db, order_id, updates[index])
                except Refused as refused:
                    return refused
            finally:
                await db.close()

        try:
            results[index] = asyncio.run(work())
        except BaseException as error:  # reported below, with the test's failure
            results[index] = error

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(updates))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    unexpected = [result for result in results if not isinstance(result, Order | Refused)]
    assert not unexpected, unexpected
    return [result for result in results if isinstance(result, Order | Refused)]


def _placed_order(panel: Panel, *, cancel: bool = True) -> tuple[str, int]:
    key = panel.customer("alice", balance="10")
    service = panel.service(rate=RATE, min=100, max=10000, cancel=cancel)
    order_id = place(panel, key, service, 1)
    assert panel.balance("alice") == "9.87655"
    return key, order_id


@pytest.mark.parametrize("start", [OrderStatus.PENDING, OrderStatus.IN_PROGRESS])
def test_simultaneous_operator_finishes_refund_once(panel: Panel, start: OrderStatus) -> None:
    _key, order_id = _placed_order(panel)
    if start is not OrderStatus.PENDING:
        panel.update_order(order_id, start.value, start_count=500)
    # one Canceled and eleven Partial with different remains: any two of them contradict each other
    updates = [orders.OrderUpdate(status=OrderStatus.CANCELED)] + [
        orders.OrderUpdate(status=OrderStatus.PARTIAL, remains=remains) for remains in range(50, 600, 50)
    ]
    results = _update_in_threads(panel, order_id, updates)

    done = [(update, result) for update, result in zip(updates, results, strict=True) if isinstance(result, Order)]
    assert len(done) == 1
    (winner, finished), refusals = done[0], [result for result in results if isinstance(result, Refused)]
    assert finished.status is winner.status
    assert len(refusals) == 11
    assert {refused.message for refused in refusals} == {f"Order is already {winner.status.value}"}

    expected_refund = CHARGE if winner.status is OrderStatus.CANCELED else CHARGE * (winner.remains or 0) // 1000
    (order,) = all_orders(panel)
    assert order.status is winner.status
    assert order.remains == (1000 if winner.status is OrderStatus.CANCELED else winner.remains)
    assert order.refunded == expected_refund
    refunds = [entry.amount for entry in ledger(panel) if entry.kind == "refund"]
    assert refunds == [expected_refund]
    assert panel.balance("alice") == format_amount(1_000_000 - CHARGE + expected_refund)
    assert_books_balance(panel)


@pytest.mark.parametrize("status", [OrderStatus.CANCELED, OrderStatus.PARTIAL])
def test_the_same_operator_finish_sent_many_times_refunds_once(panel: Panel, status: OrderStatus) -> None:
    _key, order_id = _placed_order(panel)
    remains = 1000 if status is OrderStatus.CANCELED else 300
    updates = [orders.OrderUpdate(status=status, remains=remains) for _ in range(12)]
    results = _update_in_threads(panel, order_id, updates)
    for result in results:
        # a repeat of the very same finish may be answered as done; it must never pay again
        if isinstance(result, Refused):
            assert result.message == f"Order is already {status.value}"
        else:
            assert result.status is status and result.remains == remains
    refund = CHARGE if status is OrderStatus.CANCELED else CHARGE * 300 // 1000  # 3703
    refunds = [entry.amount for entry in ledger(panel) if entry.kind == "refund"]
    assert refunds == [refund]
    (order,) = all_orders(panel)
    assert (order.status, order.refunded) == (status, refund)
    assert panel.balance("alice") == format_amount(1_000_000 - CHARGE + refund)
    assert_books_balance(panel)


def test_customer_cancel_racing_operator_partial_refunds_once(panel: Panel) -> None:
    key, order_id = _placed_order(panel)
    assert panel.api_url is not None
    api_url = panel.api_url
    updates = [orders.OrderUpdate(status=OrderStatus.PARTIAL, remains=remains) for remains in (100, 200, 300, 400)]
    cancel_answers: list[Any] = []

    def customer() -> None:
        cancel_answers.extend(burst([(api_url, {"key": key, "action": "cancel", "order": order_id})] * 10))

    thread = threading.Thread(target=customer)
    thread.start()
    results = _update_in_threads(panel, order_id, updates)
    thread.join(timeout=120)

    cancelled = cancel_answers.count([{"order": order_id, "cancel": 1}])
    partial = [result for result in results if isinstance(result, Order)]
    assert cancelled + len(partial) == 1
    assert cancel_answers.count([{"order": order_id, "cancel": CANCEL_REFUSED}]) == 10 - cancelled
    (order,) = all_orders(panel)
    refund = CHARGE if cancelled else CHARGE * partial[0].remains // 1000
    assert order.status is (OrderStatus.CANCELED if cancelled else OrderStatus.PARTIAL)
    assert order.refunded == refund
    assert [entry.amount for entry in ledger(panel) if entry.kind == "refund"] == [refund]
    assert panel.balance("alice") == format_amount(1_000_000 - CHARGE + refund)
    assert_books_balance(panel)


def test_mixed_adds_and_cancels_keep_balance_equal_to_ledger(panel: Panel, servers: list[str]) -> None:
    key = panel.customer("alice", balance="3")
    service = panel.service(rate=RATE, min=100, max=10000, cancel=True)
    first = [place(panel, key, service, n) for n in range(10)]
    assert first == list(range(1, 11))
    assert panel.balance("alice") == "1.7655"

    calls: list[tuple[str, dict[str, Any]]] = []
    for n in range(40):  # new orders; about 14 fit before refunds come in
        calls.append((servers[n % 2], _add(key, service, 100 + n)))
    for order_id in first:  # every existing order cancelled twice, from both servers
        calls.append((servers[0], {"key": key, "action": "cancel", "orders": str(order_id)}))
        calls.append((servers[1], {"key": key, "action": "cancel", "order": str(order_id)}))
    for order_id in range(11, 41):  # and orders that may be being created at this very moment
        calls.append((servers[order_id % 2], {"key": key, "action": "cancel", "orders": str(order_id)}))
    for n in range(10):
        calls.append((servers[n % 2], {"key": key, "action": "balance"}))
    answers = burst(calls)

    add_answers, cancel_answers, balance_answers = answers[:40], answers[40:90], answers[90:]
    placed = [answer["order"] for answer in add_answers if "order" in answer]
    assert len(placed) >= 14
    assert [answer for answer in add_answers if "order" not in answer] == [NO_FUNDS] * (40 - len(placed))
    assert len(balance_answers) == 10
    for answer in balance_answers:
        assert set(answer) == {"balance", "currency"}

    succeeded: Counter[int] = Counter()
    for answer in cancel_answers:
        (item,) = answer
        if item["cancel"] == 1:
            succeeded[item["order"]] += 1
        else:
            assert item["cancel"] in (CANCEL_REFUSED, {"error": "Incorrect order ID"})
    assert all(count == 1 for count in succeeded.values())
    assert set(first) <= set(succeeded)

    stored = all_orders(panel)
    assert [order.id for order in stored] == sorted(first + placed)
    canceled = [order.id for order in stored if order.status is OrderStatus.CANCELED]
    assert sorted(succeeded) == canceled
    assert all(order.refunded == (CHARGE if order.id in succeeded else 0) for order in stored)
    entries = ledger(panel)
    assert sorted(entry.order_id or 0 for entry in entries if entry.kind == "refund") == canceled
    kept = len(stored) - len(canceled)
    assert panel.balance("alice") == format_amount(300_000 - CHARGE * kept)
    assert panel.call(key, "balance") == {"balance": format_amount(300_000 - CHARGE * kept), "currency": "USD"}
    assert_books_balance(panel)
