"""With a proxy set in the environment the engine's calls go through it (httpx's proxy support).

The engine's lean transport speaks to providers directly; with ``HTTP_PROXY`` (or
``HTTPS_PROXY``, ``ALL_PROXY``) set, the pool uses an httpx client instead, which honours the
proxy and ``NO_PROXY``. Here a real forwarding proxy on loopback stands between the engine and
the provider simulator, and the order must reach the provider through it, exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from smmpanel.db.dispatch_repositories import SENT
from smmpanel.usecases import providers
from tests.support.engine import order_of, run_passes
from tests.support.panel import Panel, served_panel
from tests.support.proxy import ForwardingProxy
from tests.support.server import LiveServer
from tests.support.simulator import live_simulator

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def a_panel(start_server: Callable[..., LiveServer], database_url: str) -> Iterator[Panel]:
    with served_panel(start_server, database_url) as driver:
        yield driver


def test_an_order_is_forwarded_through_the_proxy_set_in_the_environment(
    a_panel: Panel, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROXY_VARIABLES:  # whatever the machine has: only the test's proxy counts
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    key = a_panel.customer("alice", balance="10")
    service = a_panel.service(rate="0.90")
    with live_simulator(seconds_per_step=600.0, seed=7) as simulator, ForwardingProxy() as proxy:
        a_panel.run(lambda db: providers.add_provider(db, "sim", simulator.api_url, "simulator-key"))
        a_panel.run(lambda db: providers.link_service(db, service, "sim", 1, 0))
        answer = a_panel.call(key, "add", service=service, link="https://instagram.com/p/proxied", quantity=100)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)  # for the engine only: the order was placed directly
        run_passes(a_panel)
        monkeypatch.delenv("HTTP_PROXY")
        stats = simulator.stats()
    assert proxy.relayed == [(simulator.api_url, "add")]
    assert stats["add_calls"] == 1
    sent = order_of(a_panel, int(answer["order"]))
    assert (sent.dispatch, sent.provider_order_id) == (SENT, "1")
    assert a_panel.ledger_ok()
