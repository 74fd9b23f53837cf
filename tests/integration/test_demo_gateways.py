"""The demo's gateways: the simulator served inside the panel under ``/simulator/gateways``, paid through."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from smmpanel.app import create_app
from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.payments import Verdict
from smmpanel.providers.simulator import SimulatorSettings
from smmpanel.simulators.demo_gateways import MOUNT, demo_simulator
from smmpanel.simulators.gateways import KEY_HEADER
from smmpanel.usecases.demo_gateways import PAYPAL, demo_gateways, load_simulated_gateways
from smmpanel.usecases.gateways import list_gateways
from smmpanel.usecases.payments import webhook_path
from tests.support.engine import wait_for
from tests.support.panel import Panel
from tests.support.payment_bench import Checkouts
from tests.support.server import ThreadedServer

KEY = "demo-test-control-key"


class _Deferred:
    """An ASGI app set after the server bound its port: the demo's simulator needs the panel's URL."""

    app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@pytest.fixture
def demo(database_url: str) -> Iterator[tuple[Panel, ThreadedServer]]:
    deferred = _Deferred()
    server = ThreadedServer(deferred)
    settings = Settings(database_url=database_url, run_engine=False)
    provider = SimulatorSettings(api_key="demo-provider-key")
    deferred.app = create_app(
        settings, simulator=provider, gateway_simulator=demo_simulator(server.base_url + webhook_path(PAYPAL), KEY)
    )
    server.start()
    panel = Panel(database_url, server.api_url)
    panel.customer("alice", "0")
    panel.run(lambda db: load_simulated_gateways(db, demo_gateways(server.base_url), add=True))
    yield panel, server
    panel.close()
    server.stop()


def test_demo_gateways_are_added_once_then_follow_the_panels_address(demo: tuple[Panel, ThreadedServer]) -> None:
    panel, server = demo

    def bases(db: Database) -> Any:
        return list_gateways(db)

    found = panel.run(bases)
    assert [(g.name, g.kind, g.config["api_base"]) for g in found] == [
        ("paypal", "paypal", f"{server.base_url}{MOUNT}/paypal"),
        ("perfectmoney", "perfectmoney", f"{server.base_url}{MOUNT}/perfectmoney"),
        ("crypto", "cryptomus", f"{server.base_url}{MOUNT}/cryptomus"),
    ]
    moved = "http://127.0.0.1:9"
    panel.run(lambda db: load_simulated_gateways(db, demo_gateways(moved)[:1], add=False))
    assert panel.run(bases)[0].config["api_base"] == f"{moved}{MOUNT}/paypal"
    assert len(panel.run(bases)) == 3


def test_each_demo_gateway_takes_a_payment_through_the_panels_own_simulator(
    demo: tuple[Panel, ThreadedServer],
) -> None:
    panel, server = demo
    sim = httpx.Client(base_url=server.base_url + MOUNT, timeout=60)
    bench = Checkouts(panel, server)
    assert sim.get("/_sim/deliveries").status_code == 401
    provider = httpx.post(f"{server.base_url}/simulator/api/v2", data={"key": "demo-provider-key", "action": "balance"})
    assert provider.json()["currency"] == "USD"  # the provider simulator still answers beside it

    paypal = bench.start("paypal", "10")
    approved = sim.post(paypal.url, data={"action": "approve"})
    assert approved.status_code == 303, (paypal.url, approved.status_code, approved.text)
    back = approved.headers["location"]
    # the capture makes PayPal send its webhook at once: either may be the one that credits
    assert bench.come_back("paypal", back) in (Verdict.CREDITED, Verdict.DUPLICATE)

    pm = bench.start("perfectmoney", "5.55")
    checkout = sim.post(pm.started.redirect_url or "", data=pm.started.form_fields).headers["location"]
    sim.post(checkout, data={"action": "pay"})

    crypto = bench.start("crypto", "2.5")
    sim.post(crypto.url)

    def all_delivered() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = sim.get("/_sim/deliveries", headers={KEY_HEADER: KEY}).json()["deliveries"]
        return found if len(found) == 4 and all(d["status_code"] for d in found) else []

    delivered = wait_for(all_delivered, "the three gateways' callbacks")
    assert [(d["gateway"], d["status_code"]) for d in delivered] == [
        ("paypal", 200),  # CHECKOUT.ORDER.APPROVED
        ("paypal", 200),  # PAYMENT.CAPTURE.COMPLETED
        ("perfectmoney", 200),
        ("cryptomus", 200),
    ]
    assert sorted(bench.outcomes(paypal.payment.id)) == ["credited", "duplicate", "duplicate"]
    assert bench.outcomes(pm.payment.id) == ["credited"]
    assert bench.outcomes(crypto.payment.id) == ["credited"]
    assert panel.balance() == "18.05"
    assert panel.ledger_ok()
    sim.close()
