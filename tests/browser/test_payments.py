"""Topping up in a real browser: by card through localstripe's Stripe.js, and by bank transfer.

The card's balance moves only when localstripe's signed webhook reaches the panel; the page
says "waiting for confirmation" until then and updates by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from smmpanel.gateways.stripe import EVENTS
from smmpanel.money import parse_amount
from smmpanel.simulators.localstripe import LocalStripe
from smmpanel.usecases import accounts, payments
from smmpanel.usecases.gateways import GatewayChanges, add_gateway
from tests.browser.conftest import log_in, screenshot, sign_up
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"
SECRET = "whsec_browser_test"


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[LocalStripe]:
    with LocalStripe() as fake:
        yield fake


@pytest.fixture
def shop(database_url: str, start_server: Callable[..., LiveServer], fake_stripe: LocalStripe) -> Iterator[str]:
    server = start_server()
    panel = Panel(database_url)  # set-up runs in a helper thread: Playwright's loop owns this one
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    options = {
        "secret_key": "sk_test_browser",
        "publishable_key": "pk_test_browser",
        "webhook_secret": SECRET,
        "api_base": fake_stripe.base_url,
        "js_url": fake_stripe.js_url,
    }
    card = GatewayChanges(display_name="Card", bonus_percent=parse_amount("10"), bonus_from=parse_amount("10"))
    panel.run(lambda db: add_gateway(db, "stripe", "card", options=options, changes=card))
    bank = GatewayChanges(display_name="Bank transfer", instructions="IBAN XX00 TEST")
    panel.run(lambda db: add_gateway(db, "manual", "bank", options={}, changes=bank))
    fake_stripe.register_webhook(server.base_url + payments.webhook_path("card"), SECRET, EVENTS)
    yield server.base_url
    assert panel.ledger_ok()
    panel.close()


def fill_card(page: Page, number: str) -> None:
    """Type a card into localstripe's card element (its inputs are named by their placeholders)."""
    card = page.locator("#card-element")
    fields = {"number": number, "exp_month": "12", "exp_year": "31", "cvc": "123", "postal_code": "10001"}
    for field, value in fields.items():
        card.locator(f'input[placeholder="{field}"]').fill(value)


def test_a_card_top_up_through_stripe_js_is_credited_when_stripe_confirms_it(
    new_page: Callable[[], Page], shop: str
) -> None:
    customer, operator = new_page(), new_page()
    sign_up(customer, shop, "carol", PASSWORD)
    customer.goto(f"{shop}/funds")
    method = customer.locator('section.method[data-gateway="card"]')
    expect(method).to_contain_text("+10.00 % bonus from 10.00 USD")
    method.locator("input[name=amount]").fill("12.34")
    method.locator("button").click()
    expect(customer.locator("#pay-button")).to_have_text("Pay 12.34 USD")
    fill_card(customer, "4242424242424242")
    screenshot(customer, "funds-card")
    customer.click("#pay-button")
    outcome = customer.locator("#outcome")
    expect(outcome).to_contain_text("Credited 12.34 USD and a bonus of 1.234", timeout=60_000)
    expect(customer.locator(".who .balance")).to_have_text("13.574")

    log_in(operator, shop, "boss", PASSWORD)
    operator.goto(f"{shop}/admin/payments")
    row = operator.locator("#payments tbody tr").first
    expect(row).to_contain_text("carol")
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("pi_")
    expect(operator.locator("#credited")).to_have_text("12.34 USD")
    row.locator("a").first.click()
    expect(operator.locator("#raw")).to_contain_text('"status": "succeeded"')
    expect(operator.locator("#events")).to_contain_text("credited 12.34")


def test_a_declined_card_says_so_and_credits_nothing(new_page: Callable[[], Page], shop: str) -> None:
    customer = new_page()
    sign_up(customer, shop, "dan", PASSWORD)
    customer.goto(f"{shop}/funds")
    method = customer.locator('section.method[data-gateway="card"]')
    method.locator("input[name=amount]").fill("5")
    method.locator("button").click()
    fill_card(customer, "4000000000000341")
    customer.click("#pay-button")
    expect(customer.locator("#card-error")).not_to_be_empty()
    expect(customer.locator("#pay-button")).to_be_enabled()
    expect(customer.locator(".who .balance")).to_have_text("0.00")


def test_a_bank_transfer_waits_for_the_operator_then_is_credited(new_page: Callable[[], Page], shop: str) -> None:
    customer, operator = new_page(), new_page()
    sign_up(customer, shop, "erin", PASSWORD)
    customer.goto(f"{shop}/funds")
    method = customer.locator('section.method[data-gateway="bank"]')
    expect(method).to_contain_text("IBAN XX00 TEST")
    method.locator("input[name=amount]").fill("40.5")
    method.locator("input[name=reference]").fill("TRANSFER-0042")
    method.locator("button").click()
    expect(customer.locator("#outcome")).to_contain_text("TRANSFER-0042")
    expect(customer.locator("#outcome")).to_contain_text("waiting for our review")

    log_in(operator, shop, "boss", PASSWORD)
    operator.goto(f"{shop}/admin/payments/review")
    row = operator.locator("#review tbody tr", has_text="TRANSFER-0042")
    expect(row).to_contain_text("erin")
    row.locator("button", has_text="Approve").click()
    expect(operator.locator(".banner.notice")).to_contain_text("approved: 40.50 USD")
    expect(operator.locator("#review")).to_have_count(0)

    customer.reload()
    expect(customer.locator("#outcome")).to_contain_text("Credited 40.50 USD")
    expect(customer.locator(".who .balance")).to_have_text("40.50")
