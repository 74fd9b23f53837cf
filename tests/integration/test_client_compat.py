"""A reseller's own software, the PyPI client ``babismm`` (``from smm import SMM``), against a live panel.

The client is used exactly as its users do, unchanged, in both response styles: it
posts url-encoded forms, joins id lists with commas, and raises ``SMMAPIError`` on
``{"error": ...}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from smm import SMM, SMMAPIError

from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.refills import RefillStatus
from smmpanel.usecases import refills
from tests.support.panel import Panel
from tests.support.server import LiveServer


def exactly(message: str) -> str:
    """A ``pytest.raises`` pattern that matches the whole message and nothing else."""
    return f"^{re.escape(message)}$"


@dataclass
class Reseller:
    panel: Panel
    client: SMM
    style: str

    def count(self, value: int) -> object:
        """start_count / remains / min / max as the style writes them."""
        return str(value) if self.style == "perfectpanel" else value

    def single_refill(self, value: int) -> object:
        return str(value) if self.style == "perfectpanel" else value

    @property
    def cancel_success(self) -> object:
        return 1 if self.style == "perfectpanel" else {"status": "success"}


@pytest.fixture(params=["perfectpanel", "viralhub"])
def reseller(
    request: pytest.FixtureRequest, database_url: str, start_server: Callable[..., LiveServer]
) -> Iterator[Reseller]:
    server = start_server(api_style=request.param)
    panel = Panel(database_url, server.api_url)
    key = panel.customer(balance="100")
    client = SMM(server.api_url, key, timeout=10)
    yield Reseller(panel, client, request.param)
    client.close()
    panel.close()


def catalog(panel: Panel) -> tuple[int, int]:
    followers = panel.service(name="Followers", rate="0.90", min=50, max=10000, refill=True, cancel=True)
    comments = panel.service(
        name="Comments", type=ServiceType.CUSTOM_COMMENTS, rate="12.00", min=1, max=500, refill=False, cancel=False
    )
    return followers, comments


def test_balance_and_services(reseller: Reseller) -> None:
    followers, comments = catalog(reseller.panel)
    assert reseller.client.get_balance() == {"balance": "100.00", "currency": "USD"}
    services = reseller.client.get_services()
    assert [(s["service"], s["type"], s["rate"], s["min"], s["max"]) for s in services] == [
        (followers, "Default", "0.90", reseller.count(50), reseller.count(10000)),
        (comments, "Custom Comments", "12.00", reseller.count(1), reseller.count(500)),
    ]
    assert [(s["refill"], s["cancel"]) for s in services] == [(True, True), (False, False)]


def test_a_resellers_day(reseller: Reseller) -> None:
    client, panel = reseller.client, reseller.panel
    followers, comments = catalog(panel)

    plain = client.add_order(followers, link="https://x.test/plain", quantity=1000)
    drip = client.add_order(followers, link="https://x.test/drip", quantity=100, runs=10, interval=60)
    lines = ["Great post!", "Love it", "So true"]
    commented = client.add_order(comments, link="https://x.test/post", comments="\n".join(lines))
    assert (plain, drip, commented) == ({"order": 1}, {"order": 2}, {"order": 3})
    assert client.get_balance() == {"balance": "98.164", "currency": "USD"}  # 0.90 + 0.90 + 0.036

    assert client.get_status(1) == {
        "charge": "0.90",
        "start_count": reseller.count(0),
        "status": "Pending",
        "remains": reseller.count(1000),
        "currency": "USD",
    }
    statuses = client.get_multi_status([1, 2, 3, 404])
    assert list(statuses) == ["1", "2", "3", "404"]
    assert [statuses[id]["charge"] for id in ("1", "2", "3")] == ["0.90", "0.90", "0.036"]
    assert statuses["2"]["remains"] == reseller.count(1000)  # 100 × 10 runs
    assert statuses["3"]["remains"] == reseller.count(3)
    assert statuses["404"] == {"error": "Incorrect order ID"}

    assert client.cancel_orders([2, 3]) == [
        {"order": 2, "cancel": reseller.cancel_success},
        {"order": 3, "cancel": {"error": "Cancel not available for this service"}},
    ]
    assert client.get_status(2)["status"] == "Canceled"
    assert client.get_balance()["balance"] == "99.064"

    with pytest.raises(SMMAPIError, match=exactly("Refill not available for this order")):
        client.create_refill(1)  # not finished yet
    panel.update_order(1, "Completed", start_count=120)
    assert client.get_status(1)["remains"] == reseller.count(0)
    assert client.create_refill(1) == {"refill": reseller.single_refill(1)}
    assert client.get_refill_status(1) == {"status": "Pending"}

    fourth = client.add_order(followers, link="https://x.test/more", quantity=500)["order"]
    panel.update_order(fourth, "Partial", start_count=10, remains=100)  # 0.45 charged, 0.09 back
    panel.update_order(3, "Completed")
    assert client.create_multi_refill([1, fourth, 3, 77]) == [
        {"order": 1, "refill": 1},  # still open: the same refill, not a second one
        {"order": fourth, "refill": 2},
        {"order": 3, "refill": {"error": "Refill not available for this service"}},
        {"order": 77, "refill": {"error": "Incorrect order ID"}},
    ]

    panel.run(lambda db: refills.update_refill(db, 1, RefillStatus.COMPLETED))
    assert client.get_refill_status(1) == {"status": "Completed"}
    assert client.get_multi_refill_status([1, 2, 3]) == [
        {"refill": 1, "status": "Completed"},
        {"refill": 2, "status": "Pending"},
        {"refill": 3, "status": {"error": "Refill not found"}},
    ]

    # 100 − 0.90 (plain) − 0.036 (comments) − 0.45 + 0.09 (partial); the drip-feed came back in full
    assert client.get_balance() == {"balance": "98.704", "currency": "USD"}
    assert panel.balance() == "98.704"
    assert panel.ledger_ok()


def test_errors_raise_with_the_contracts_messages(reseller: Reseller) -> None:
    client, panel = reseller.client, reseller.panel
    followers, _ = catalog(panel)
    stranger = SMM(client.api_url, "not-a-key-" + "x" * 30, timeout=10)
    for call in (stranger.get_balance, stranger.get_services, lambda: stranger.get_status(1)):
        with pytest.raises(SMMAPIError, match=exactly("Invalid API key")):
            call()
    stranger.close()

    with pytest.raises(SMMAPIError, match=exactly("Not enough funds on balance")):
        client.add_order(followers, link="https://x.test/big", quantity=10000, runs=12, interval=5)  # 108.00
    with pytest.raises(SMMAPIError, match=exactly("Quantity less than minimal 50")):
        client.add_order(followers, link="https://x.test/small", quantity=10)
    with pytest.raises(SMMAPIError, match=exactly("Incorrect service ID")):
        client.add_order(999, link="https://x.test/none", quantity=100)
    with pytest.raises(SMMAPIError, match=exactly("Incorrect order ID")):
        client.get_status(1)
    with pytest.raises(SMMAPIError, match=exactly("Refill not found")):
        client.get_refill_status(1)

    assert panel.balance() == "100.00"  # nothing refused moved any money
    client.add_order(followers, link="https://x.test/ok", quantity=10000)  # 9.00
    client.add_order(followers, link="https://x.test/ok2", quantity=10000, runs=10, interval=5)  # 90.00
    with pytest.raises(SMMAPIError, match=exactly("Not enough funds on balance")):
        client.add_order(followers, link="https://x.test/one-too-many", quantity=1112)  # 1.0008 > 1.00
    last = client.add_order(followers, link="https://x.test/last", quantity=1111)  # 0.9999
    assert client.get_status(last["order"])["charge"] == "0.9999"
    assert client.get_balance() == {"balance": "0.0001", "currency": "USD"}
    assert panel.ledger_ok()
