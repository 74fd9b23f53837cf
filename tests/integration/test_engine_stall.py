"""No provider can stall the engine or fill its memory.

A real ``python -m smmpanel worker`` serves three providers at once: one that sends its
headers and then a byte a second, one that answers 200 MB (streamed: it is never built in
memory, here or there), and a healthy simulator. The healthy provider's orders are
forwarded and synced to their end while the trickling exchange is still on the wire, and
the worker's peak memory stays where it was before the 200 MB answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from smmpanel.db.dispatch_repositories import ATTENTION, SENDING
from tests.integration.test_engine import add_provider, adds, attention_ids, link, place
from tests.support.cli import Background
from tests.support.engine import order_of, wait_for
from tests.support.misbehaving import MisbehavingProvider
from tests.support.panel import Panel, served_panel
from tests.support.server import LiveServer
from tests.support.simulator import live_simulator

FLOOD = 200 * 1024 * 1024
ROOM = 48 * 1024 * 1024
"""How much the worker's peak memory may grow past its warmed-up size: far below the flood."""


def memory_of(pid: int, field: str) -> int:
    """A field of ``/proc/PID/status`` in bytes: ``VmRSS`` now, ``VmHWM`` the peak so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for process {pid}")


@pytest.fixture
def a_panel(start_server: Callable[..., LiveServer], database_url: str) -> Iterator[Panel]:
    with served_panel(start_server, database_url) as driver:
        yield driver


@pytest.fixture
def hostile() -> Iterator[tuple[MisbehavingProvider, MisbehavingProvider]]:
    trickler, flooder = MisbehavingProvider().start(), MisbehavingProvider().start()
    trickler.trickle(every=1.0)
    flooder.flood(FLOOD)
    yield trickler, flooder
    trickler.stop()
    flooder.stop()


def test_a_trickling_and_a_flooding_provider_delay_only_their_own_orders_and_memory_stays_flat(
    a_panel: Panel, hostile: tuple[MisbehavingProvider, MisbehavingProvider], tmp_path: Path
) -> None:
    trickler, flooder = hostile
    key = a_panel.customer("alice", balance="10")
    healthy_service, slow_service, flood_service = (a_panel.service(rate="0.90") for _ in range(3))
    workers = Background(a_panel.database_url, tmp_path)
    with live_simulator(seconds_per_step=0.3) as simulator:
        add_provider(a_panel, "healthy", simulator.api_url)
        add_provider(a_panel, "trickler", trickler.api_url, "k1")
        add_provider(a_panel, "flooder", flooder.api_url, "k2")
        link(a_panel, healthy_service, "healthy", 1)
        link(a_panel, slow_service, "trickler", 1)
        link(a_panel, flood_service, "flooder", 1)
        try:
            # The exchange deadline is far beyond the test: only the lanes keep the trickler apart. No balance
            # checks: the providers here count what they receive, and checks have a loop of their own.
            worker = workers.start(
                "worker", http_timeout=900, sync_interval=0.2, engine_interval=0.1, provider_check_interval=0
            )
            warm_up = place(a_panel, key, healthy_service)
            wait_for(lambda: order_of(a_panel, warm_up).status.is_final, "the first order to end", timeout=60)
            before = memory_of(worker.pid, "VmRSS")

            slow = [place(a_panel, key, slow_service) for _ in range(2)]
            flooded = [place(a_panel, key, flood_service) for _ in range(2)]
            wait_for(lambda: len(trickler.received) == 2, "both slow orders to be on the wire", timeout=60)
            healthy = [place(a_panel, key, healthy_service) for _ in range(3)]
            wait_for(
                lambda: all(order_of(a_panel, n).status.is_final for n in healthy), "the healthy orders to end", 90
            )
            # Forwarded and synced to their end while the trickling exchanges are still going on.
            assert [order_of(a_panel, n).dispatch for n in slow] == [SENDING, SENDING]
            assert {order_of(a_panel, n).status.value for n in healthy} == {"Completed"}

            wait_for(lambda: set(flooded) <= set(attention_ids(a_panel)), "the flooded orders to be held", 90)
            peak = memory_of(worker.pid, "VmHWM")
            assert worker.poll() is None
        finally:
            workers.stop_all()
    for order_id in flooded:
        held = order_of(a_panel, order_id)
        assert held.dispatch == ATTENTION
        assert held.attention_reason is not None and "an answer larger than 262,144 bytes" in held.attention_reason
    assert peak - before < ROOM, f"the worker grew from {before:,} to a peak of {peak:,} bytes"
    assert (adds(trickler), adds(flooder)) == (2, 2)
    assert a_panel.ledger_ok()
