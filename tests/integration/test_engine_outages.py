"""A provider that cannot be reached holds its orders; it never cancels them behind the operator's back.

Outages run on simulated time (``smmpanel.clock.travel``): the engine, the API and the
test all read the same moved clock, so ten minutes or an hour pass in a few engine passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from smmpanel.clock import travel, travel_back
from smmpanel.config import Settings
from smmpanel.db.dispatch_repositories import FAILED, QUEUED, SENT
from smmpanel.db.unit_of_work import Database
from smmpanel.money import Units
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import outages, providers
from tests.integration.test_engine import SLOW, add_provider, link, place, refunds_of, status
from tests.support.cli import Cli
from tests.support.engine import ENGINE_SETTINGS, order_of, refusing_address, run_passes
from tests.support.panel import Panel, served_panel
from tests.support.server import LiveServer
from tests.support.simulator import LiveSimulator, live_simulator

OUTAGE = {"send_retries": 3, "retry_backoff": 10}
"""The engine as deployed backs off: 10 s, 20 s, 40 s … up to 5 minutes between tries."""


@pytest.fixture
def a_panel(start_server: Callable[..., LiveServer], database_url: str) -> Iterator[Panel]:
    with served_panel(start_server, database_url) as driver:
        yield driver
    travel_back()


@pytest.fixture
def simulator() -> Iterator[LiveSimulator]:
    with live_simulator(seconds_per_step=SLOW, seed=7) as running:
        yield running


def pass_time(panel: Panel, minutes: int, step: int = 30) -> None:
    """``minutes`` of simulated time, an engine pass every ``step`` seconds."""
    for _ in range(minutes * 60 // step):
        run_passes(panel, **OUTAGE)
        travel(timedelta(seconds=step))


def alice_and_a_dead_provider(panel: Panel, dead_url: str) -> tuple[str, int, int]:
    """Alice's key (10.00), and a service whose only provider, "sim", refuses every connection."""
    key = panel.customer("alice", balance="10")
    service = panel.service(rate="0.90")
    provider_id = add_provider(panel, "sim", dead_url)
    link(panel, service, "sim", 1)
    return key, service, provider_id


def the_provider_returns(panel: Panel, simulator: LiveSimulator) -> Units:
    """It answers at the simulator's address now; the operator's Test asks its balance."""

    async def work(db: Database) -> Units:
        await providers.update_provider(db, "sim", url=simulator.api_url, api_key=None)
        pool = ClientPool(Settings(database_url=panel.database_url, **ENGINE_SETTINGS))
        try:
            balance, _ = await providers.check_connection(db, pool, "sim")
            return balance
        finally:
            await pool.aclose()

    return panel.run(work)


def test_a_ten_minute_outage_cancels_nothing_and_each_waiting_order_is_sent_once_when_the_provider_returns(
    a_panel: Panel, simulator: LiveSimulator, tmp_path: Path
) -> None:
    with refusing_address() as dead_url:
        key, service, provider_id = alice_and_a_dead_provider(a_panel, dead_url)
        placed = [place(a_panel, key, service) for _ in range(3)]
        pass_time(a_panel, minutes=10)

        waiting = [order_of(a_panel, order_id) for order_id in placed]
        assert {(o.status.value, o.dispatch, o.provider_id) for o in waiting} == {("Pending", QUEUED, provider_id)}
        assert min(o.attempts for o in waiting) >= 4  # tried again and again, backing off
        assert [status(a_panel, key, order_id)["status"] for order_id in placed] == ["Pending"] * 3
        assert (a_panel.balance("alice"), refunds_of(a_panel, "alice")) == ("9.73", [])
        (outage,) = a_panel.run(outages.outages)
        assert (outage.provider.name, outage.summary) == ("sim", "provider unreachable: 3 orders waiting")
        assert outage.since is not None and outage.provider.last_error is not None
        listed = Cli(a_panel.database_url, tmp_path).json("order", "attention")
        assert listed["orders"] == []
        assert [(row["provider"], row["waiting"]) for row in listed["outages"]] == [("sim", 3)]

    assert the_provider_returns(a_panel, simulator) == 10_000_000_000  # 100000.00: it answers again
    run_passes(a_panel, **OUTAGE)  # its waiting orders were made due at once: no backoff left to sit out
    sent = [order_of(a_panel, order_id) for order_id in placed]
    assert {(o.dispatch, o.status.value) for o in sent} == {(SENT, "Pending")}
    assert sorted(o.provider_order_id or "" for o in sent) == ["1", "2", "3"]
    run_passes(a_panel, 3, **OUTAGE)
    assert simulator.stats()["add_calls"] == 3  # each sent exactly once
    assert a_panel.run(outages.outages) == []
    (provider,) = a_panel.run(lambda db: providers.list_providers(db, ClientPool(Settings(**ENGINE_SETTINGS))))
    assert (provider.provider.down_since, provider.provider.last_error) == (None, None)
    assert a_panel.ledger_ok()


def test_orders_are_canceled_for_an_outage_only_past_the_limit_the_operator_set(a_panel: Panel, tmp_path: Path) -> None:
    cli = Cli(a_panel.database_url, tmp_path)
    with refusing_address() as dead_url:
        key, service, _ = alice_and_a_dead_provider(a_panel, dead_url)
        limit = cli.json("provider", "update", "sim", "--outage-limit", "1h")
        assert limit == {"provider": "sim", "outage_limit": 3600}
        assert "expected a duration" in cli.fails("provider", "update", "sim", "--outage-limit", "soon")
        placed = [place(a_panel, key, service) for _ in range(2)]
        pass_time(a_panel, minutes=55, step=300)
        assert {order_of(a_panel, order_id).dispatch for order_id in placed} == {QUEUED}
        pass_time(a_panel, minutes=10, step=300)
    ended = [order_of(a_panel, order_id) for order_id in placed]
    assert {(o.status.value, o.dispatch, o.refunded) for o in ended} == {("Canceled", FAILED, 9000)}
    assert all(o.attention_reason and "sim: unreachable for longer than 1h" in o.attention_reason for o in ended)
    assert (a_panel.balance("alice"), refunds_of(a_panel, "alice")) == ("10.00", ["0.09", "0.09"])
    assert a_panel.ledger_ok()


def test_the_operator_cancels_every_waiting_order_of_a_provider_at_once_refunded_exactly_once(
    a_panel: Panel, simulator: LiveSimulator, tmp_path: Path
) -> None:
    cli = Cli(a_panel.database_url, tmp_path)
    with refusing_address() as dead_url:
        key, service, _ = alice_and_a_dead_provider(a_panel, dead_url)
        placed = [place(a_panel, key, service) for _ in range(3)]
        pass_time(a_panel, minutes=2)
        assert cli.json("provider", "cancel-waiting", "sim") == {"provider": "sim", "canceled": 3}
        assert cli.json("provider", "cancel-waiting", "sim") == {"provider": "sim", "canceled": 0}
        assert "no provider named 'nope'" in cli.fails("provider", "cancel-waiting", "nope")
    assert [status(a_panel, key, order_id)["status"] for order_id in placed] == ["Canceled"] * 3
    assert (a_panel.balance("alice"), refunds_of(a_panel, "alice")) == ("10.00", ["0.09"] * 3)

    the_provider_returns(a_panel, simulator)
    run_passes(a_panel, 2, **OUTAGE)
    assert simulator.stats()["add_calls"] == 0  # canceled orders are never sent
    assert a_panel.run(outages.outages) == []
    assert a_panel.ledger_ok()


def test_an_order_fails_over_at_once_from_a_provider_known_to_be_down(a_panel: Panel, simulator: LiveSimulator) -> None:
    key = a_panel.customer("alice", balance="10")
    service = a_panel.service(rate="0.90")
    with refusing_address() as dead_url:
        dead_id = add_provider(a_panel, "dead", dead_url, "k")
        simulator_id = add_provider(a_panel, "sim", simulator.api_url)
        link(a_panel, service, "dead", 11, priority=0)
        link(a_panel, service, "sim", 1, priority=1)
        first = place(a_panel, key, service)
        run_passes(a_panel, **OUTAGE)  # the first failure: it may be a blip, so the first order waits a retry
        assert (order_of(a_panel, first).dispatch, order_of(a_panel, first).provider_id) == (QUEUED, dead_id)

        second = place(a_panel, key, service)
        run_passes(a_panel, 2, **OUTAGE)  # "dead" is known to be down: no retries on it
    moved = order_of(a_panel, second)
    assert (moved.dispatch, moved.provider_id, moved.provider_order_id, moved.attempts) == (SENT, simulator_id, "1", 0)
    assert order_of(a_panel, first).provider_id == dead_id  # its retry is not due yet
    assert simulator.stats()["add_calls"] == 1
    assert a_panel.ledger_ok()
