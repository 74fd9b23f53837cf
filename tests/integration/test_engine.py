"""The order engine end to end: real panels, providers, databases and worker processes.

Orders are forwarded to real HTTP providers on loopback: another smmpanel, the
provider simulator, or a provider that misbehaves on cue. Engine passes run in the
test's process with ``sync_interval=0`` (every due item is handled at once), except
where a real ``python -m smmpanel worker`` must be killed or scaled out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.dispatch_repositories import ATTENTION, CLAIMED, DONE, FAILED, QUEUED, SENDING, SENT
from smmpanel.db.unit_of_work import Database
from smmpanel.engine.forward import ABANDONED
from smmpanel.engine.worker import Engine
from smmpanel.errors import Refused
from smmpanel.money import format_amount, parse_amount, per_thousand_charge
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import accounts, fulfilment, providers
from tests.support.cli import Background, Cli
from tests.support.engine import (
    ENGINE_SETTINGS,
    all_orders,
    free_port,
    make_due,
    next_attempt_of,
    order_of,
    refill_row,
    refusing_address,
    run_passes,
    status_counts,
    wait_for,
)
from tests.support.misbehaving import MisbehavingProvider
from tests.support.panel import Panel, served_panel
from tests.support.server import LiveServer
from tests.support.simulator import LiveSimulator, live_simulator

LINK = "https://instagram.com/p/engine"
SLOW = 600.0
"""A simulator step so long that nothing moves upstream unless a test forces it."""
SIM_KEY = "simulator-key"


# --- helpers -------------------------------------------------------------------------------


def add_provider(panel: Panel, name: str, url: str, key: str = SIM_KEY) -> int:
    return panel.run(lambda db: providers.add_provider(db, name, url, key))


def link(panel: Panel, service_id: int, provider: str, provider_service: int, priority: int = 0) -> None:
    panel.run(lambda db: providers.link_service(db, service_id, provider, provider_service, priority))


def import_catalog(panel: Panel, provider: str, markup: str) -> providers.ImportReport:
    async def work(db: Database) -> providers.ImportReport:
        pool = ClientPool(Settings(database_url=panel.database_url, **ENGINE_SETTINGS))
        try:
            return await providers.import_catalog(db, pool, provider, markup=parse_amount(markup))
        finally:
            await pool.aclose()

    return panel.run(work)


def place(panel: Panel, key: str, service: int, quantity: int = 100, **extra: Any) -> int:
    answer = panel.call(key, "add", **{"service": service, "link": LINK, "quantity": quantity, **extra})
    assert set(answer) == {"order"}, answer
    return int(answer["order"])


def status(panel: Panel, key: str, order_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = panel.call(key, "status", order=order_id)
    return answer


def attention_ids(panel: Panel) -> list[int]:
    return [order.id for order in panel.run(lambda db: fulfilment.attention_list(db, 100))]


def refunds_of(panel: Panel, username: str) -> list[str]:
    """The amounts of every refund entry in the customer's ledger, oldest first."""
    _, entries = panel.run(lambda db: accounts.ledger_of(db, username, 1000))
    return [format_amount(entry.amount) for entry in reversed(entries) if entry.kind == "refund"]


def adds(provider: MisbehavingProvider) -> int:
    return sum(1 for request in provider.received if request.form.get("action") == "add")


@pytest.fixture
def a_panel(start_server: Callable[..., LiveServer], database_url: str) -> Iterator[Panel]:
    """A panel whose customers' orders the engine forwards; its engine runs only when a test says."""
    with served_panel(start_server, database_url) as driver:
        yield driver


@pytest.fixture
def misbehaving() -> Iterator[MisbehavingProvider]:
    provider = MisbehavingProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def slow_simulator() -> Iterator[LiveSimulator]:
    with live_simulator(seconds_per_step=SLOW, seed=7) as simulator:
        yield simulator


# --- 1. a chain of two real panels ---------------------------------------------------------


def test_a_chain_of_two_panels_forwards_syncs_and_refunds_on_both(
    a_panel: Panel, start_server: Callable[..., LiveServer], second_database_url: str
) -> None:
    b_panel = Panel(second_database_url, start_server(database_url=second_database_url).api_url)
    try:
        # Panel B sells to panel A, whose operator holds the customer account "reseller-a" there.
        reseller_key = b_panel.customer("reseller-a", balance="10")
        b_service = b_panel.service(name="IG Followers", rate="0.12347", min=50, max=10000)
        assert b_service == 1

        add_provider(a_panel, "panel-b", b_panel.api_url or "", reseller_key)
        report = import_catalog(a_panel, "panel-b", markup="20")
        assert (report.created, report.updated, report.disabled) == ([1], [], [])
        alice = a_panel.customer("alice", balance="5")
        # 0.12347 × 1.2 = 0.148164, rounded up: A never sells below what B charges it.
        assert a_panel.call(alice, "services") == [
            {
                "service": 1,
                "name": "IG Followers",
                "type": "Default",
                "category": "Instagram",
                "rate": "0.14817",
                "min": "50",
                "max": "10000",
                "refill": True,
                "cancel": True,
            }
        ]

        order_id = place(a_panel, alice, 1, quantity=1234)  # 0.14817 × 1.234 = 0.18284178
        assert a_panel.balance("alice") == "4.81716"
        assert run_passes(a_panel, 3)[0] >= 1
        b_orders = all_orders(b_panel)
        assert len(b_orders) == 1  # forwarded once, however many passes ran
        upstream = b_orders[0]
        assert (upstream.service_id, upstream.link, upstream.quantity) == (1, LINK, 1234)
        assert upstream.charge == parse_amount("0.15236")  # 0.12347 × 1.234 = 0.15236198
        assert b_panel.balance("reseller-a") == "9.84764"
        forwarded = order_of(a_panel, order_id)
        assert (forwarded.dispatch, forwarded.provider_order_id) == (SENT, str(upstream.id))
        assert forwarded.upstream_charge == parse_amount("0.15236")
        assert forwarded.charge - forwarded.upstream_charge == parse_amount("0.03048")  # A's margin

        b_panel.update_order(upstream.id, "In progress", start_count=777)
        run_passes(a_panel)
        assert status(a_panel, alice, order_id) == {
            "charge": "0.18284",
            "start_count": "777",
            "status": "In progress",
            "remains": "1234",
            "currency": "USD",
        }

        b_panel.update_order(upstream.id, "Partial", remains=333)
        assert b_panel.balance("reseller-a") == "9.88875"  # 0.15236 × 333 / 1234 = 0.041114…, down
        run_passes(a_panel, 2)
        assert status(a_panel, alice, order_id) == {
            "charge": "0.18284",
            "start_count": "777",
            "status": "Partial",
            "remains": "333",
            "currency": "USD",
        }
        assert a_panel.balance("alice") == "4.8665"  # 0.18284 × 333 / 1234 = 0.049340…, down
        assert refunds_of(a_panel, "alice") == ["0.04934"]
        assert refunds_of(b_panel, "reseller-a") == ["0.04111"]
        settled = order_of(a_panel, order_id)
        assert (settled.dispatch, settled.refunded, settled.upstream_charge) == (DONE, 4934, 15236)
        assert a_panel.ledger_ok() and b_panel.ledger_ok()
    finally:
        b_panel.close()


# --- 2. failover, refusals and ambiguous answers ------------------------------------------


@pytest.fixture
def alice(a_panel: Panel) -> str:
    """Alice's key; she buys service 1 (0.90 per 1000: 100 cost 0.09) with 10.00."""
    key = a_panel.customer("alice", balance="10")
    assert a_panel.service(rate="0.90") == 1
    return key


def test_a_refusal_fails_over_to_the_next_provider(
    a_panel: Panel, alice: str, misbehaving: MisbehavingProvider, slow_simulator: LiveSimulator
) -> None:
    misbehaving.answer('{"error": "Not enough funds on balance"}')
    add_provider(a_panel, "broke", misbehaving.api_url, "k")
    simulator_id = add_provider(a_panel, "sim", slow_simulator.api_url)
    link(a_panel, 1, "broke", 11, priority=0)
    link(a_panel, 1, "sim", 1, priority=1)
    order_id = place(a_panel, alice, 1)

    run_passes(a_panel)
    moved = order_of(a_panel, order_id)
    assert (moved.dispatch, moved.provider_id, moved.provider_order_id) == (QUEUED, simulator_id, None)
    assert moved.attention_reason == "broke: Not enough funds on balance"
    run_passes(a_panel, 3)
    sent = order_of(a_panel, order_id)
    assert (sent.dispatch, sent.provider_id, sent.provider_order_id) == (SENT, simulator_id, "1")
    assert [request.form for request in misbehaving.received] == [
        {"service": "11", "link": LINK, "quantity": "100", "key": "k", "action": "add"}
    ]
    stats = slow_simulator.stats()
    assert (stats["add_calls"], stats["orders_total"], stats["charged"]) == (1, 1, "0.09")
    assert a_panel.balance("alice") == "9.91"
    assert refunds_of(a_panel, "alice") == []
    assert a_panel.ledger_ok()


def test_a_refusal_by_the_only_provider_cancels_and_refunds_in_full(
    a_panel: Panel, alice: str, misbehaving: MisbehavingProvider
) -> None:
    misbehaving.answer('{"error": "Not enough funds on balance"}')
    add_provider(a_panel, "broke", misbehaving.api_url, "k")
    link(a_panel, 1, "broke", 11)
    order_id = place(a_panel, alice, 1)
    assert a_panel.balance("alice") == "9.91"

    run_passes(a_panel, 3)
    failed = order_of(a_panel, order_id)
    assert (failed.dispatch, failed.refunded, failed.attention_reason) == (
        FAILED,
        9000,
        "broke: Not enough funds on balance",
    )
    assert status(a_panel, alice, order_id) == {
        "charge": "0.09",
        "start_count": "0",
        "status": "Canceled",
        "remains": "100",
        "currency": "USD",
    }
    assert adds(misbehaving) == 1
    assert a_panel.balance("alice") == "10.00"
    assert refunds_of(a_panel, "alice") == ["0.09"]
    assert attention_ids(a_panel) == []
    assert a_panel.ledger_ok()


def test_a_batch_larger_than_the_connection_pool_is_sent_without_waiting_on_the_pool(
    a_panel: Panel, alice: str
) -> None:
    """Sends take pooled connections only as the pool has them: none queues on the pool's timeout."""
    batch = 12
    with live_simulator(seconds_per_step=SLOW, latency=0.2) as simulator:
        add_provider(a_panel, "sim", simulator.api_url)
        link(a_panel, 1, "sim", 1)
        placed = [place(a_panel, alice, 1) for _ in range(batch)]
        settings = Settings(
            database_url=a_panel.database_url,
            **{**ENGINE_SETTINGS, "db_pool_size": 2, "forward_batch": batch, "provider_concurrency": 8},
        )

        async def one_pass(db: Database) -> tuple[int, int]:
            busy, most = 0, 0

            def checkout(*_: object) -> None:
                nonlocal busy, most
                busy += 1
                most = max(most, busy)

            def checkin(*_: object) -> None:
                nonlocal busy
                busy -= 1

            sqlalchemy.event.listen(db.engine.sync_engine, "checkout", checkout)
            sqlalchemy.event.listen(db.engine.sync_engine, "checkin", checkin)
            engine = Engine(db, settings)
            try:
                return await engine.run_pass(), most
            finally:
                await engine.aclose()

        handled, most_connections = a_panel.run(one_pass)
        assert simulator.stats()["add_calls"] == batch
    assert handled >= batch
    assert most_connections <= 2
    assert {order_of(a_panel, order_id).dispatch for order_id in placed} == {SENT}
    assert a_panel.ledger_ok()


def test_a_claimed_order_canceled_by_its_customer_is_refunded_at_once_and_never_sent(
    a_panel: Panel, alice: str, slow_simulator: LiveSimulator
) -> None:
    add_provider(a_panel, "sim", slow_simulator.api_url)
    link(a_panel, 1, "sim", 1)
    order_id = place(a_panel, alice, 1)
    claimed_until = utcnow() + timedelta(minutes=5)

    async def claim_and_plan(db: Database) -> fulfilment.SendPlan | None:
        async with db.write() as repos:
            await repos.dispatch.claim_to_send(utcnow(), claimed_until, 10)
        return await fulfilment.plan_send(db, order_id)

    plan = a_panel.run(claim_and_plan)  # a worker holds it and is about to send it
    assert plan is not None and order_of(a_panel, order_id).dispatch == CLAIMED
    assert a_panel.call(alice, "cancel", orders=str(order_id)) == [{"order": order_id, "cancel": 1}]
    canceled = order_of(a_panel, order_id)
    assert (canceled.status.value, canceled.dispatch, canceled.refunded) == ("Canceled", DONE, 9000)
    assert a_panel.balance("alice") == "10.00"
    assert not a_panel.run(lambda db: fulfilment.start_send(db, plan, claimed_until, claimed_until))
    run_passes(a_panel, 2)
    assert slow_simulator.stats()["add_calls"] == 0
    assert order_of(a_panel, order_id).dispatch == DONE
    assert a_panel.ledger_ok()


def test_an_unreachable_provider_is_retried_after_its_backoff_then_failed_over(
    a_panel: Panel, alice: str, slow_simulator: LiveSimulator
) -> None:
    with refusing_address() as dead_url:
        dead_id = add_provider(a_panel, "dead", dead_url, "k")
        simulator_id = add_provider(a_panel, "sim", slow_simulator.api_url)
        link(a_panel, 1, "dead", 11, priority=0)
        link(a_panel, 1, "sim", 1, priority=1)
        order_id = place(a_panel, alice, 1)

        run_passes(a_panel, retry_backoff=60)  # the request never left: retry, after 60 s
        waiting = order_of(a_panel, order_id)
        assert (waiting.dispatch, waiting.provider_id, waiting.attempts) == (QUEUED, dead_id, 1)
        retry_at = next_attempt_of(a_panel, order_id)
        assert retry_at is not None and 50 < (retry_at - utcnow()).total_seconds() <= 60
        run_passes(a_panel, 2, retry_backoff=60)  # not due yet: nothing happens
        assert order_of(a_panel, order_id) == waiting
        assert slow_simulator.stats()["add_calls"] == 0

        make_due(a_panel, order_id)
        run_passes(a_panel, retry_backoff=60)  # send_retries=1 used up: the next provider
        moved = order_of(a_panel, order_id)
        assert (moved.dispatch, moved.provider_id, moved.attempts) == (QUEUED, simulator_id, 0)
        assert moved.attention_reason is not None and moved.attention_reason.startswith("dead: add: could not connect")
        run_passes(a_panel, 2)
    sent = order_of(a_panel, order_id)
    assert (sent.dispatch, sent.provider_id, sent.provider_order_id) == (SENT, simulator_id, "1")
    assert slow_simulator.stats()["add_calls"] == 1
    assert a_panel.balance("alice") == "9.91"
    assert a_panel.ledger_ok()


AMBIGUOUS = {
    "html-500": lambda p: p.answer(
        "<html><body>500 Internal Server Error</body></html>", status=500, content_type="text/html"
    ),
    "malformed-json": lambda p: p.answer('{"order": 12'),
    "timeout-after-sending": lambda p: p.answer('{"order": 12}', delay=2.0),
    "connection-closed": lambda p: p.hang_up(),
}


@pytest.mark.parametrize("answer", list(AMBIGUOUS))
def test_an_ambiguous_answer_puts_the_order_in_attention_and_it_is_never_resent(
    a_panel: Panel,
    alice: str,
    misbehaving: MisbehavingProvider,
    slow_simulator: LiveSimulator,
    tmp_path: Path,
    answer: str,
) -> None:
    AMBIGUOUS[answer](misbehaving)
    provider_id = add_provider(a_panel, "odd", misbehaving.api_url, "k")
    add_provider(a_panel, "sim", slow_simulator.api_url)
    link(a_panel, 1, "odd", 11, priority=0)
    link(a_panel, 1, "sim", 1, priority=1)  # a provider to fail over to must not tempt the engine
    order_id = place(a_panel, alice, 1)

    run_passes(a_panel, 4, http_timeout=1.0)
    held = order_of(a_panel, order_id)
    assert (held.dispatch, held.provider_id, held.provider_order_id) == (ATTENTION, provider_id, None)
    assert held.attention_reason is not None
    assert held.attention_reason.startswith("odd: add: ")
    assert held.attention_reason.endswith("; the provider may have created the order: check there first")
    assert adds(misbehaving) == 1
    assert slow_simulator.stats()["add_calls"] == 0
    assert attention_ids(a_panel) == [order_id]
    listed = Cli(a_panel.database_url, tmp_path).json("order", "attention")["orders"]
    assert [(row["id"], row["provider_id"], row["provider_order"], row["charge"], row["reason"]) for row in listed] == [
        (order_id, provider_id, None, "0.09", held.attention_reason)
    ]
    assert status(a_panel, alice, order_id)["status"] == "Pending"
    assert (held.refunded, a_panel.balance("alice")) == (0, "9.91")
    assert a_panel.ledger_ok()


def test_the_operator_resolves_attention_by_resend_set_upstream_and_fail(
    a_panel: Panel, alice: str, misbehaving: MisbehavingProvider, tmp_path: Path
) -> None:
    misbehaving.answer("<html>502 Bad Gateway</html>", status=502, content_type="text/html")
    add_provider(a_panel, "odd", misbehaving.api_url, "k")
    link(a_panel, 1, "odd", 11)
    resent, linked, failed = (place(a_panel, alice, 1, link=f"{LINK}/{n}") for n in range(3))
    run_passes(a_panel, 2)
    assert attention_ids(a_panel) == [resent, linked, failed]
    assert adds(misbehaving) == 3
    assert a_panel.balance("alice") == "9.73"

    cli = Cli(a_panel.database_url, tmp_path)
    assert cli.json("order", "resend", str(resent)) == {"order": resent, "done": "queued again"}
    assert cli.json("order", "set-upstream", str(linked), "777") == {"order": linked, "done": "linked"}
    assert cli.json("order", "fail", str(failed)) == {"order": failed, "done": "failed, refunded"}
    with pytest.raises(Refused, match="is not waiting for attention"):  # so never refunded twice
        a_panel.run(lambda db: fulfilment.fail(db, failed))
    with pytest.raises(Refused, match="is not waiting for attention"):
        a_panel.run(lambda db: fulfilment.resend(db, linked))
    assert attention_ids(a_panel) == []

    misbehaving.answer('{"order": 501}')
    run_passes(a_panel, 3)
    assert adds(misbehaving) == 4  # exactly one more: the resent order, once
    links = [request.form["link"] for request in misbehaving.received if request.form["action"] == "add"]
    assert (sorted(links[:3]), links[3]) == ([f"{LINK}/{n}" for n in range(3)], f"{LINK}/0")
    assert (order_of(a_panel, resent).dispatch, order_of(a_panel, resent).provider_order_id) == (SENT, "501")
    assert (order_of(a_panel, linked).dispatch, order_of(a_panel, linked).provider_order_id) == (SENT, "777")

    misbehaving.answer(
        '{"501": {"charge": "0.08", "start_count": "5", "status": "In progress", "remains": "40", "currency": "USD"},'
        ' "777": {"charge": "0.08", "start_count": "9", "status": "Completed", "remains": "0", "currency": "USD"}}'
    )
    run_passes(a_panel)
    assert misbehaving.received[-1].form["orders"] in ("501,777", "777,501")
    assert status(a_panel, alice, resent) == {
        "charge": "0.09",
        "start_count": "5",
        "status": "In progress",
        "remains": "40",
        "currency": "USD",
    }
    assert status(a_panel, alice, linked)["status"] == "Completed"
    assert status(a_panel, alice, failed)["status"] == "Canceled"
    assert order_of(a_panel, failed).dispatch == FAILED
    assert refunds_of(a_panel, "alice") == ["0.09"]  # the failed order, once
    assert a_panel.balance("alice") == "9.82"
    assert adds(misbehaving) == 4
    assert a_panel.ledger_ok()


def test_an_upstream_id_given_twice_sends_the_second_order_to_attention(
    a_panel: Panel, alice: str, misbehaving: MisbehavingProvider
) -> None:
    misbehaving.answer('{"order": 42}')
    add_provider(a_panel, "copycat", misbehaving.api_url, "k")
    link(a_panel, 1, "copycat", 11)
    first, second = place(a_panel, alice, 1), place(a_panel, alice, 1)
    run_passes(a_panel)  # both are sent in the same pass, at the same time
    assert adds(misbehaving) == 2
    outcomes = sorted((order_of(a_panel, n) for n in (first, second)), key=lambda order: order.dispatch or "")
    held, sent = outcomes
    assert (sent.dispatch, sent.provider_order_id) == (SENT, "42")
    assert (held.dispatch, held.provider_order_id) == (ATTENTION, None)
    assert held.attention_reason == f"copycat answered order id 42, which it already gave for order {sent.id}"
    assert attention_ids(a_panel) == [held.id]
    run_passes(a_panel, 2)
    assert adds(misbehaving) == 2
    assert a_panel.balance("alice") == "9.82"
    assert a_panel.ledger_ok()


def test_a_sync_answered_incorrect_order_id_goes_to_attention(
    a_panel: Panel, alice: str, misbehaving: MisbehavingProvider
) -> None:
    misbehaving.answer('{"order": 5}')
    add_provider(a_panel, "forgetful", misbehaving.api_url, "k")
    link(a_panel, 1, "forgetful", 11)
    order_id = place(a_panel, alice, 1)
    run_passes(a_panel)
    assert order_of(a_panel, order_id).dispatch == SENT

    misbehaving.answer('{"5": {"error": "Incorrect order ID"}}')
    run_passes(a_panel)
    held = order_of(a_panel, order_id)
    assert (held.dispatch, held.provider_order_id) == (ATTENTION, "5")
    assert held.attention_reason == "forgetful answered 'Incorrect order ID' for its order 5"
    assert attention_ids(a_panel) == [order_id]
    calls = len(misbehaving.received)
    run_passes(a_panel, 2)
    assert len(misbehaving.received) == calls  # neither synced nor sent again
    assert status(a_panel, alice, order_id)["status"] == "Pending"
    assert (held.refunded, a_panel.balance("alice")) == (0, "9.91")
    assert a_panel.ledger_ok()


# --- 3. a worker killed mid-way -------------------------------------------------------------


def test_a_worker_killed_while_sending_leaves_the_order_to_the_operator_never_sent_twice(
    a_panel: Panel, alice: str, tmp_path: Path
) -> None:
    """Only the order on the wire needs the operator; the ones the worker had claimed but not
    started are queued again and sent by the next worker."""
    workers = Background(a_panel.database_url, tmp_path)
    once = Cli(a_panel.database_url, tmp_path, send_lease_grace=0, http_timeout=4, sync_interval=0)
    with live_simulator(seconds_per_step=SLOW, latency=3.0) as simulator:
        simulator_id = add_provider(a_panel, "sim", simulator.api_url)
        link(a_panel, 1, "sim", 1)
        placed = [place(a_panel, alice, 1) for _ in range(3)]
        try:
            # The provider acts at once and answers 3 s later: the worker dies before it hears back.
            worker = workers.start(
                "worker", http_timeout=10, http_connect_timeout=0.5, send_lease_grace=0, provider_concurrency=1
            )
            wait_for(lambda: simulator.stats()["add_calls"] == 1, "the provider to receive the first order")
            workers.kill(worker)
        finally:
            workers.stop_all()
        states = {order_id: order_of(a_panel, order_id) for order_id in placed}
        (order_id,) = [n for n, order in states.items() if order.dispatch == SENDING]  # the one on the wire
        waiting = [n for n in placed if n != order_id]
        assert [states[n].dispatch for n in waiting] == [CLAIMED, CLAIMED]
        assert (states[order_id].provider_id, states[order_id].provider_order_id) == (simulator_id, None)
        leases = [next_attempt_of(a_panel, n) for n in placed]

        run_passes(a_panel)  # the send's lease (10.5 s) still holds: hands off it
        assert order_of(a_panel, order_id).dispatch == SENDING
        wait_for(lambda: utcnow() > max(lease for lease in leases if lease), "the dead worker's leases to run out")
        once.json("worker", "--once")
        held = order_of(a_panel, order_id)
        assert (held.dispatch, held.provider_order_id) == (ATTENTION, None)
        assert held.attention_reason == ABANDONED
        assert attention_ids(a_panel) == [order_id]
        assert [order_of(a_panel, n).dispatch for n in waiting] == [SENT, SENT]  # claimed, never sent: sent now
        once.json("worker", "--once")
        assert simulator.stats()["add_calls"] == 3  # none sent twice
        assert (held.refunded, a_panel.balance("alice")) == (0, "9.73")
        assert a_panel.ledger_ok()

        # The operator finds it upstream (the simulator's order 1) and links it: syncing resumes.
        assert once.json("order", "set-upstream", str(order_id), "1") == {"order": order_id, "done": "linked"}
        assert simulator.force(1, status="Completed", start_count=12).status_code == 200
        once.json("worker", "--once")
        assert status(a_panel, alice, order_id) == {
            "charge": "0.09",
            "start_count": "12",
            "status": "Completed",
            "remains": "0",
            "currency": "USD",
        }
        assert simulator.stats()["add_calls"] == 3
    assert a_panel.ledger_ok()


def test_a_killed_workers_claimed_orders_are_taken_over_within_seconds_and_none_is_sent_twice(
    a_panel: Panel, alice: str, tmp_path: Path
) -> None:
    """Claims name their worker, whose heartbeat stops with it: a second worker takes over the
    claimed-but-unsent orders long before their lease (65 s) ends; the one on the wire waits."""
    workers = Background(a_panel.database_url, tmp_path)
    settings: dict[str, Any] = {"http_timeout": 30, "provider_concurrency": 1, "worker_heartbeat_timeout": 2}
    with live_simulator(seconds_per_step=SLOW, latency=3.0) as simulator:
        add_provider(a_panel, "sim", simulator.api_url)
        link(a_panel, 1, "sim", 1)
        placed = [place(a_panel, alice, 1) for _ in range(4)]
        try:
            worker = workers.start("worker", **settings)
            wait_for(lambda: simulator.stats()["add_calls"] == 1, "the provider to receive the first order")
            workers.kill(worker)
            states = {order_id: order_of(a_panel, order_id) for order_id in placed}
            (on_the_wire,) = [n for n, order in states.items() if order.dispatch == SENDING]
            claimed = [n for n in placed if n != on_the_wire]
            assert [states[n].dispatch for n in claimed] == [CLAIMED] * 3
            leases = [next_attempt_of(a_panel, n) for n in claimed]
            assert all(lease is not None and (lease - utcnow()).total_seconds() > 50 for lease in leases)

            workers.start("worker", **settings)
            wait_for(lambda: all(order_of(a_panel, n).dispatch == SENT for n in claimed), "the takeover", 40)
            assert utcnow() < min(lease for lease in leases if lease)  # well before the old lease
            assert order_of(a_panel, on_the_wire).dispatch == SENDING  # may be upstream: never resent blindly
        finally:
            workers.stop_all()
        stats = simulator.stats()
    assert stats["add_calls"] == 4  # each order reached the provider once
    assert sorted(order_of(a_panel, n).provider_order_id or "" for n in claimed) == ["2", "3", "4"]
    assert a_panel.ledger_ok()


def test_a_worker_killed_after_the_provider_answered_is_replaced_and_syncing_goes_on(
    a_panel: Panel, alice: str, tmp_path: Path
) -> None:
    workers = Background(a_panel.database_url, tmp_path)
    with live_simulator(seconds_per_step=1.0, partial_rate=1.0, seed=3) as simulator:
        add_provider(a_panel, "sim", simulator.api_url)
        link(a_panel, 1, "sim", 1)
        order_id = place(a_panel, alice, 1)
        try:
            worker = workers.start("worker", sync_interval=1)
            wait_for(lambda: order_of(a_panel, order_id).dispatch == SENT, "the order to be sent")
            workers.kill(worker)
            killed = order_of(a_panel, order_id)
            assert (killed.provider_order_id, killed.status.is_final) == ("1", False)

            workers.start("worker", sync_interval=0.2)
            wait_for(lambda: order_of(a_panel, order_id).status.is_final, "the order to end upstream")
        finally:
            workers.stop_all()
        stats = simulator.stats()
        upstream = simulator.call("status", order=1)
    assert (stats["add_calls"], stats["orders"]["Partial"]) == (1, 1)
    # Seed 3 makes the simulator's story: start count 9709, 31 of 100 never delivered.
    assert upstream == {
        "charge": "0.09",
        "start_count": "9709",
        "status": "Partial",
        "remains": "31",
        "currency": "USD",
    }
    assert status(a_panel, alice, order_id) == upstream
    ended = order_of(a_panel, order_id)
    assert (ended.dispatch, ended.refunded) == (DONE, 2790)  # 0.09 × 31 / 100 = 0.0279
    assert a_panel.balance("alice") == "9.9379"
    assert refunds_of(a_panel, "alice") == ["0.0279"]
    assert a_panel.ledger_ok()


# --- 4. drip-feed through the engine --------------------------------------------------------


def subscriptions(panel: Panel, key: str) -> list[tuple[int, int, str]]:
    """(id, remaining_runs, status) of each of the customer's schedules, newest first."""
    return [(item["id"], item["remaining_runs"], item["status"]) for item in panel.call(key, "subscriptions")]


def test_a_drip_feed_places_one_run_at_a_time_and_a_stop_refunds_exactly(
    a_panel: Panel, slow_simulator: LiveSimulator, tmp_path: Path
) -> None:
    dana = a_panel.customer("dana", balance="10")
    a_panel.service(rate="0.12347")
    add_provider(a_panel, "sim", slow_simulator.api_url)
    link(a_panel, 1, "sim", 1)
    parent = place(a_panel, dana, 1, quantity=100, runs=3, interval=1)  # 0.12347 × 0.3 = 0.037041
    assert parent == 1
    assert a_panel.balance("dana") == "9.96296"
    assert order_of(a_panel, parent).charge == 3704
    assert subscriptions(a_panel, dana) == [(parent, 3, "Active")]

    run_passes(a_panel, 2)  # the first run is placed and forwarded; the next is a minute away
    first = order_of(a_panel, 2)
    assert (first.parent_id, first.charge, first.quantity, first.dispatch, first.provider_order_id) == (
        parent,
        0,
        100,
        SENT,
        "1",
    )
    assert slow_simulator.stats()["add_calls"] == 1
    assert subscriptions(a_panel, dana) == [(parent, 2, "Active")]
    assert status(a_panel, dana, parent) == {
        "charge": "0.03704",
        "start_count": "0",
        "status": "In progress",
        "remains": "300",
        "currency": "USD",
    }

    make_due(a_panel, parent)
    run_passes(a_panel, 2)
    assert (order_of(a_panel, 3).parent_id, order_of(a_panel, 3).provider_order_id) == (parent, "2")
    assert slow_simulator.stats()["add_calls"] == 2
    assert subscriptions(a_panel, dana) == [(parent, 1, "Active")]

    assert slow_simulator.force(1, status="In progress", start_count=500, remains=60).status_code == 200
    run_passes(a_panel)
    assert status(a_panel, dana, parent) == {  # one run not placed (100) + 60 + 100 still to come
        "charge": "0.03704",
        "start_count": "500",
        "status": "In progress",
        "remains": "260",
        "currency": "USD",
    }

    cli = Cli(a_panel.database_url, tmp_path)
    # The run never placed comes back at once: 0.03704 × 100 / 300 = 0.012346…, rounded down.
    assert cli.json("order", "stop", str(parent)) == {"order": parent, "status": "In progress", "refunded": "0.01234"}
    assert "already stopped" in cli.fails("order", "stop", str(parent))
    assert a_panel.balance("dana") == "9.9753"
    assert subscriptions(a_panel, dana) == [(parent, 0, "Canceled")]
    make_due(a_panel, parent)
    run_passes(a_panel, 2)
    assert slow_simulator.stats()["add_calls"] == 2  # no run after the stop

    assert slow_simulator.force(1, status="Completed").status_code == 200
    assert slow_simulator.force(2, status="Partial", remains=40).status_code == 200
    run_passes(a_panel)
    assert status(a_panel, dana, parent) == {
        "charge": "0.03704",
        "start_count": "500",
        "status": "Partial",
        "remains": "140",
        "currency": "USD",
    }
    # In all 0.03704 × 140 / 300 = 0.017285…, rounded down: 0.01728, of which 0.01234 came at the stop.
    assert refunds_of(a_panel, "dana") == ["0.01234", "0.00494"]
    assert a_panel.balance("dana") == "9.98024"
    ended = order_of(a_panel, parent)
    assert (ended.refunded, ended.dispatch) == (1728, DONE)
    assert [(child.status.value, child.refunded) for child in all_orders(a_panel)[1:]] == [
        ("Completed", 0),
        ("Partial", 0),
    ]
    run_passes(a_panel, 2)
    assert refunds_of(a_panel, "dana") == ["0.01234", "0.00494"]
    assert a_panel.ledger_ok()


def test_a_drip_feed_ends_when_its_last_run_ends_and_refunds_an_undelivered_run(
    a_panel: Panel, slow_simulator: LiveSimulator
) -> None:
    dana = a_panel.customer("dana", balance="1")
    a_panel.service(rate="0.90")
    add_provider(a_panel, "sim", slow_simulator.api_url)
    link(a_panel, 1, "sim", 1)
    parent = place(a_panel, dana, 1, quantity=50, runs=2, interval=5)  # 0.90 × 0.1 = 0.09
    run_passes(a_panel)
    assert a_panel.run(lambda db: fulfilment.place_drip_feed_run(db, parent))  # the second run, now
    assert not a_panel.run(lambda db: fulfilment.place_drip_feed_run(db, parent))  # and no third
    assert subscriptions(a_panel, dana) == [(parent, 0, "Active")]
    run_passes(a_panel)
    assert slow_simulator.stats()["add_calls"] == 2

    assert slow_simulator.force(1, status="Completed", start_count=7).status_code == 200
    run_passes(a_panel)
    assert status(a_panel, dana, parent)["status"] == "In progress"  # one run still going
    assert slow_simulator.force(2, status="Canceled").status_code == 200
    run_passes(a_panel)
    assert status(a_panel, dana, parent) == {
        "charge": "0.09",
        "start_count": "7",
        "status": "Partial",
        "remains": "50",
        "currency": "USD",
    }
    assert subscriptions(a_panel, dana) == [(parent, 0, "Completed")]
    assert refunds_of(a_panel, "dana") == ["0.045"]
    assert a_panel.balance("dana") == "0.955"
    assert a_panel.ledger_ok()


# --- 5. refills and cancels go upstream -----------------------------------------------------


def test_a_refill_of_a_forwarded_order_is_forwarded_and_its_status_synced(a_panel: Panel, alice: str) -> None:
    with live_simulator(seconds_per_step=1.0, seed=5) as simulator:
        add_provider(a_panel, "sim", simulator.api_url)
        link(a_panel, 1, "sim", 1)
        order_id = place(a_panel, alice, 1)
        run_passes(a_panel)
        assert simulator.force(1, status="Completed").status_code == 200
        run_passes(a_panel)
        assert status(a_panel, alice, order_id)["status"] == "Completed"

        assert a_panel.call(alice, "refill", order=order_id) == {"refill": "1"}
        assert a_panel.call(alice, "refill_status", refill=1) == {"status": "Pending"}
        run_passes(a_panel)
        refill = refill_row(a_panel, 1)
        assert (refill["dispatch"], refill["provider_refill_id"], refill["status"]) == (SENT, "1", "Pending")
        assert a_panel.call(alice, "refill", order=order_id) == {"refill": "1"}  # still open: the same one

        def completed() -> bool:
            run_passes(a_panel)
            return bool(a_panel.call(alice, "refill_status", refill=1) == {"status": "Completed"})

        wait_for(completed, "the provider to complete the refill", timeout=10, every=0.2)
        assert refill_row(a_panel, 1)["dispatch"] == DONE
        stats = simulator.stats()
        assert (stats["calls"]["refill"], stats["refills"], stats["add_calls"]) == (1, 1, 1)
    assert a_panel.ledger_ok()


def test_a_cancel_of_a_forwarded_order_is_asked_upstream_and_refunded_as_it_ends(a_panel: Panel, alice: str) -> None:
    with live_simulator(seconds_per_step=SLOW) as simulator:
        add_provider(a_panel, "sim", simulator.api_url)
        link(a_panel, 1, "sim", 1)
        started, waiting = place(a_panel, alice, 1), place(a_panel, alice, 1)
        run_passes(a_panel)
        upstream = int(order_of(a_panel, started).provider_order_id or 0)  # both sent at once: either may be 1
        assert simulator.force(upstream, status="In progress", start_count=10, remains=70).status_code == 200
        run_passes(a_panel)
        assert status(a_panel, alice, started)["status"] == "In progress"
        assert status(a_panel, alice, waiting)["status"] == "Pending"
        assert a_panel.balance("alice") == "9.82"

        assert a_panel.call(alice, "cancel", orders=f"{started},{waiting}") == [
            {"order": started, "cancel": 1},
            {"order": waiting, "cancel": 1},
        ]
        # Nothing is refunded before the provider says how far it got.
        assert a_panel.balance("alice") == "9.82"
        assert status(a_panel, alice, waiting)["status"] == "Pending"
        run_passes(a_panel, 3)
        assert simulator.stats()["calls"]["cancel"] == 1
        assert status(a_panel, alice, started) == {
            "charge": "0.09",
            "start_count": "10",
            "status": "Partial",
            "remains": "70",
            "currency": "USD",
        }
        assert status(a_panel, alice, waiting) == {
            "charge": "0.09",
            "start_count": "0",
            "status": "Canceled",
            "remains": "100",
            "currency": "USD",
        }
        assert refunds_of(a_panel, "alice") == ["0.063", "0.09"]  # 0.09 × 70 / 100, and all of it
        assert a_panel.balance("alice") == "9.973"
        assert simulator.stats()["refunded"] == "0.153"  # the provider refunded us the same
        run_passes(a_panel, 2)
        assert simulator.stats()["calls"]["cancel"] == 1
    assert refunds_of(a_panel, "alice") == ["0.063", "0.09"]
    assert a_panel.ledger_ok()


# --- 6. scale-out: several API and worker processes on one PostgreSQL ------------------------

SCALE_ORDERS = 2000
SCALE_CUSTOMERS = 20
SCALE_BUDGET = 120.0
"""Seconds to place, forward and sync every order, once the processes are up."""


async def place_concurrently(api_url: str, keys: list[str], count: int, at_once: int = 32) -> list[Any]:
    """``count`` orders over HTTP, ``at_once`` of them in flight at every moment."""
    gate = asyncio.Semaphore(at_once)
    # A fresh connection per order: a kept-alive one the server closes just as it is reused
    # fails with a ReadError, and an add that may or may not have been placed cannot be retried.
    limits = httpx.Limits(max_connections=at_once, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one(number: int) -> Any:
            fields = {"key": keys[number % len(keys)], "action": "add", "service": "1", "link": f"{LINK}/{number}"}
            async with gate:
                response = await client.post(api_url, data={**fields, "quantity": "100"})
            assert response.status_code == 200, response.text
            return response.json()

        return await asyncio.gather(*(one(number) for number in range(count)))


def wait_until_up(url: str, what: str) -> None:
    def up() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, what, timeout=30, every=0.1)


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_api_processes_and_three_workers_forward_every_order_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    ops = Panel(database_url)
    processes = Background(database_url, tmp_path)
    try:
        simulator_url = f"http://127.0.0.1:{free_port()}"
        processes.start("simulate-provider", "--port", simulator_url.rsplit(":", 1)[1], "--speed", "0.2")
        api = f"http://127.0.0.1:{free_port()}"
        processes.start("serve", "--workers", "2", "--no-engine", "--port", api.rsplit(":", 1)[1])
        wait_until_up(f"{simulator_url}/_sim/stats?key=simulator-key", "the simulator")
        wait_until_up(f"{api}/api/v2", "the API processes")

        keys = [ops.customer(f"reseller{n}", balance="20") for n in range(SCALE_CUSTOMERS)]
        ops.service(rate="1.00", max=1000)
        add_provider(ops, "sim", f"{simulator_url}/api/v2")
        link(ops, 1, "sim", 1)
        for _ in range(3):
            processes.start("worker", sync_interval=3, engine_interval=0.5, forward_batch=100, provider_concurrency=8)

        begun = time.monotonic()

        def left() -> float:
            return max(0.5, SCALE_BUDGET - (time.monotonic() - begun))

        answers = asyncio.run(asyncio.wait_for(place_concurrently(f"{api}/api/v2", keys, SCALE_ORDERS), left()))
        assert all(set(answer) == {"order"} for answer in answers), [a for a in answers if "order" not in a][:3]
        assert sorted(answer["order"] for answer in answers) == list(range(1, SCALE_ORDERS + 1))
        placing = f"(placing took {time.monotonic() - begun:.0f} s)"

        def stats() -> Any:
            return httpx.get(f"{simulator_url}/_sim/stats", params={"key": "simulator-key"}, timeout=10).json()

        wait_for(lambda: stats()["add_calls"] >= SCALE_ORDERS, f"every order forwarded {placing}", left(), 0.5)
        wait_for(lambda: status_counts(ops) == {"Completed": SCALE_ORDERS}, f"all synced {placing}", left(), 0.5)
        final = stats()
        for process in processes.processes:
            assert process.poll() is None, processes.log(process)  # none died on the way
    finally:
        processes.stop_all()
        ops.close()
    assert (final["add_calls"], final["orders_total"], final["orders"]["Completed"]) == (SCALE_ORDERS,) * 3
    local = all_orders(ops)
    assert len(local) == SCALE_ORDERS
    assert {order.provider_order_id for order in local} == {str(n) for n in range(1, SCALE_ORDERS + 1)}
    assert {(order.dispatch, order.refunded) for order in local} == {(DONE, 0)}
    assert final["charged"] == "180.00"  # 2000 × 0.09, each paid upstream once
    assert [ops.balance(f"reseller{n}") for n in range(SCALE_CUSTOMERS)] == ["10.00"] * SCALE_CUSTOMERS  # 100 × 0.10
    assert ops.ledger_ok()


# --- 6. a forwarded Subscriptions order -------------------------------------------------------


def test_a_forwarded_subscription_follows_the_providers_posts_each_charged_as_it_is_delivered(
    a_panel: Panel,
) -> None:
    """The provider delivers a post a second and charges for each; the panel charges its customer
    for what each status answer shows delivered since the last, at its own rate, and ends with it."""
    key = a_panel.customer("alice", balance="10")
    with live_simulator(seconds_per_step=1.0, seed=5) as simulator:
        add_provider(a_panel, "sim", simulator.api_url)
        report = import_catalog(a_panel, "sim", markup="50")  # 0.40 upstream, 0.60 here
        (service,) = [s for s in report.created if a_panel.run(lambda db, s=s: _service_type(db, s)) == "Subscriptions"]
        answer = a_panel.call(key, "add", service=service, username="nasa", min=100, max=500, delay=0, posts=3)
        order_id = int(answer["order"])
        seen: list[tuple[str, str]] = []

        def followed() -> bool:
            run_passes(a_panel)
            now = order_of(a_panel, order_id)
            seen.append((now.status.value, format_amount(now.charge)))
            return now.status.is_final

        wait_for(followed, "the subscription to deliver its three posts", timeout=60, every=0.2)
        upstream = simulator.call("status", order=1)
    ended = order_of(a_panel, order_id)
    delivered = ended.quantity
    assert upstream["status"] == "Completed" and ended.status.value == "Completed"
    assert 300 <= delivered <= 1500 and delivered % 3 == 0  # three posts of one size, each within min..max
    assert upstream["charge"] == format_amount(per_thousand_charge(parse_amount("0.40"), delivered))
    assert format_amount(ended.charge) == format_amount(per_thousand_charge(parse_amount("0.60"), delivered))
    assert ended.upstream_charge == parse_amount(upstream["charge"])
    assert 1 <= ended.runs_done <= 3  # a charge per answer that showed new posts
    charges = [parse_amount(charge) for _, charge in seen]
    assert charges == sorted(charges) and charges[-1] == ended.charge  # charged as posts came, never taken back
    assert a_panel.balance("alice") == format_amount(parse_amount("10") - ended.charge)
    assert refunds_of(a_panel, "alice") == []
    assert a_panel.ledger_ok()


async def _service_type(db: Database, service_id: int) -> str:
    async with db.read() as repos:
        service = await repos.services.get(service_id)
    assert service is not None
    return service.type.value
