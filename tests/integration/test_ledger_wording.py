"""A customer's ledger in the customer's words: the notes never tell who delivers an order.

Refunds are made the real way (a provider simulator answering Partial and Canceled through the
engine, a provider that refuses, a drip-feed stopped on the dashboard); the operator still reads
the internal reason of each entry, and every figure is unchanged.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

import pytest

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.integration.test_engine import add_provider, link, place
from tests.integration.test_web_customer import PASSWORD, Browser
from tests.support.engine import run_passes
from tests.support.misbehaving import MisbehavingProvider
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.simulator import LiveSimulator, live_simulator


@pytest.fixture
def simulator() -> Iterator[LiveSimulator]:
    with live_simulator(seconds_per_step=600.0, seed=7) as simulator:
        yield simulator


@pytest.fixture
def refusing() -> Iterator[MisbehavingProvider]:
    provider = MisbehavingProvider().start()
    provider.answer('{"error": "Not enough funds on balance"}')
    yield provider
    provider.stop()


def ledger_notes(page: str, table: str) -> list[str]:
    """The Note column of the ledger table, newest first."""
    body = page.split(table, 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]
    return [html.unescape(re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[3]).strip() for row in rows]


def test_customers_read_their_refunds_in_their_words_and_the_operator_the_reasons(
    start_server: Callable[..., LiveServer],
    database_url: str,
    simulator: LiveSimulator,
    refusing: MisbehavingProvider,
) -> None:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    try:
        key = panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("10"), password=PASSWORD)).api_key
        panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
        assert panel.service(rate="1") == 1
        assert panel.service(name="Likes", rate="2") == 2
        add_provider(panel, "sim", simulator.api_url)
        add_provider(panel, "broke", refusing.api_url, "k")
        link(panel, 1, "sim", 1)
        link(panel, 2, "broke", 11)
        partial = place(panel, key, 1, quantity=1000)  # 1.00
        canceled = place(panel, key, 1, quantity=500)  # 0.50
        refused = place(panel, key, 2, quantity=100)  # 0.20
        run_passes(panel, 3)
        assert simulator.force(1, status="Partial", remains=300).status_code == 200
        assert simulator.force(2, status="Canceled").status_code == 200
        run_passes(panel, 2)
        drip = place(panel, key, 2, quantity=100, runs=3, interval=60)  # 0.60, to stop before any run
        alice = Browser(server.base_url, "alice")
        assert alice.post(f"/drip-feeds/{drip}/stop").status_code == 303

        funds = alice.get("/funds").text
        notes = ledger_notes(funds, '<table class="ledger">')
        # One sync pass refunds the partial and the canceled order: in either order.
        notes[2:4] = sorted(notes[2:4], key=lambda note: note != f"Refund for order {canceled} (canceled)")
        assert notes == [
            f"Refund for order {drip} (drip-feed stopped: 3 runs not placed)",
            f"Order {drip}",
            f"Refund for order {canceled} (canceled)",
            f"Refund for order {partial} (partial: 300 not delivered)",
            f"Refund for order {refused} (canceled)",
            f"Order {refused}",
            f"Order {canceled}",
            f"Order {partial}",
            "opening balance",
        ]
        for word in ("upstream", "provider", "sim", "broke"):
            assert not re.search(rf"\b{word}\b", funds, re.I), word
        # 10 − 1 − 0.5 − 0.2 − 0.6, then 0.3 + 0.5 + 0.2 + 0.6 back
        assert panel.balance("alice") == "9.30"
        assert panel.ledger_ok()

        boss = Browser(server.base_url, "boss")
        customer = boss.get("/admin/customers/1").text
        notes = ledger_notes(customer, '<table id="ledger">')
        assert f"order {partial} partial upstream" in notes
        assert f"order {canceled} canceled upstream" in notes
        assert f"order {refused} canceled (no provider took it)" in notes
    finally:
        panel.close()
