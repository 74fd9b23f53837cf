"""Topping up in a real browser through PayPal, Perfect Money and Cryptomus, as simulated.

From ``/funds`` to the gateway's own page (the simulator's) and back: the balance moves only
when the gateway's verified confirmation reaches the panel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from smmpanel.usecases.gateways import GatewayChanges, add_gateway
from tests.browser.conftest import screenshot, sign_up
from tests.support.gateway_simulator import (
    CRYPTOMUS_MERCHANT,
    PAYPAL_APP,
    PM_ACCOUNT,
    LiveGatewaySimulator,
    live_gateway_simulator,
)
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"


@pytest.fixture
def shop(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[tuple[str, LiveGatewaySimulator]]:
    server = start_server()
    panel = Panel(database_url)  # set-up runs in a helper thread: Playwright's loop owns this one
    with live_gateway_simulator() as sim:
        hook = sim.paypal(
            "POST",
            "/v1/notifications/webhooks",
            sim.paypal_token(),
            {"url": f"{server.base_url}/payments/webhook/paypal", "event_types": [{"name": "*"}]},
        ).json()
        gateways = {
            "paypal": {
                "client_id": PAYPAL_APP[0],
                "secret": PAYPAL_APP[1],
                "webhook_id": hook["id"],
                "api_base": sim.paypal_base,
            },
            "perfectmoney": {
                "payee_account": PM_ACCOUNT[0],
                "alternate_passphrase": PM_ACCOUNT[1],
                "api_base": sim.perfectmoney_base,
            },
            "cryptomus": {
                "merchant_id": CRYPTOMUS_MERCHANT[0],
                "api_key": CRYPTOMUS_MERCHANT[1],
                "api_base": sim.cryptomus_base,
            },
        }
        for kind, options in gateways.items():
            add(panel, kind, options)
        yield server.base_url, sim
    assert panel.ledger_ok()
    panel.close()


def add(panel: Panel, kind: str, options: dict[str, str]) -> None:
    changes = GatewayChanges(display_name=kind.capitalize())
    panel.run(lambda db: add_gateway(db, kind, kind, options=options, changes=changes))


def pay_from_funds(page: Page, shop: str, gateway: str, amount: str) -> None:
    page.goto(f"{shop}/funds")
    method = page.locator(f'section.method[data-gateway="{gateway}"]')
    method.locator("input[name=amount]").fill(amount)
    method.locator("button").click()


def test_a_customer_tops_up_through_each_simulated_gateway(
    new_page: Callable[[], Page], shop: tuple[str, LiveGatewaySimulator]
) -> None:
    base, sim = shop
    customer = new_page()
    sign_up(customer, base, "fay", PASSWORD)

    pay_from_funds(customer, base, "paypal", "10.01")
    expect(customer.locator("#amount")).to_have_text("10.01 USD")  # PayPal's checkout page
    customer.click("text=Pay now")
    expect(customer.locator("#outcome")).to_contain_text("Credited 10.01 USD", timeout=30_000)

    pay_from_funds(customer, base, "perfectmoney", "5.5")
    customer.click("#gateway-form button")
    expect(customer.locator("#amount")).to_have_text("5.50 USD")  # Perfect Money's payment page
    customer.click("text=Make payment")
    expect(customer.locator("#outcome")).to_contain_text("Credited 5.50 USD", timeout=30_000)

    pay_from_funds(customer, base, "cryptomus", "2.25")
    expect(customer.locator("#amount")).to_have_text("2.25 USD")  # Cryptomus's invoice page
    screenshot(customer, "funds-cryptomus-invoice")
    customer.click("text=I have paid")
    expect(customer.locator("#outcome")).to_contain_text("Credited 2.25 USD", timeout=30_000)
    expect(customer.locator(".who .balance")).to_have_text("17.76")
    delivered = [(d["gateway"], d["status_code"]) for d in sim.deliveries("perfectmoney") + sim.deliveries("cryptomus")]
    assert delivered == [("perfectmoney", 200), ("cryptomus", 200)]
