"""Stripe against localstripe, over real HTTP, on both back ends.

localstripe runs as a child process on a loopback port; the panel runs live; localstripe's
signed ``payment_intent.succeeded`` webhooks reach the panel's webhook path. The browser's
part (Stripe.js turning a card into a token) is done here with the same request Stripe.js makes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from smmpanel.db.payment_repositories import Payment, PaymentSearch
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import Refused
from smmpanel.gateways.stripe import EVENTS
from smmpanel.money import format_amount, parse_amount
from smmpanel.simulators.localstripe import LocalStripe
from smmpanel.usecases import payment_desk, payments
from smmpanel.usecases.gateways import GatewayChanges, add_gateway
from tests.support.panel import Panel
from tests.support.server import LiveServer

SECRET = "whsec_panel_test_secret"
SECRET_KEY = "sk_test_panel"


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[LocalStripe]:
    with LocalStripe() as fake:
        yield fake


@dataclass
class Shop:
    panel: Panel
    server: LiveServer
    fake: LocalStripe
    user_id: int

    @property
    def context(self) -> payments.PaymentContext:
        return payments.PaymentContext(self.server.base_url, "USD")

    def pay_link(self, amount: str) -> payments.Checkout:
        return self.panel.run(
            lambda db: payments.start_payment(
                db, self.context, user_id=self.user_id, gateway_name="card", amount=parse_amount(amount)
            )
        )

    def card_token(self, number: str = "4242424242424242") -> str:
        """What Stripe.js's ``createToken`` posts, with the publishable key."""
        fields = f"card[number]={number}&card[exp_month]=12&card[exp_year]=2031&card[cvc]=123&key=pk_test_panel"
        headers = {"content-type": "application/x-www-form-urlencoded"}
        response = httpx.post(f"{self.fake.base_url}/v1/tokens", content=fields, headers=headers)
        response.raise_for_status()
        return str(response.json()["id"])

    def submit(self, payment_id: int, token: str) -> Any:
        fields = {"token": token}
        return self.panel.run(
            lambda db: payments.submit_in_page(
                db, self.context, user_id=self.user_id, payment_id=payment_id, fields=fields
            )
        )

    def stripe_api(self, method: str, path: str, **fields: Any) -> Any:
        headers = {"content-type": "application/x-www-form-urlencoded"}
        url = f"{self.fake.base_url}/v1/{path}"
        response = httpx.request(method, url, content=urlencode(fields), headers=headers, auth=(SECRET_KEY, ""))
        response.raise_for_status()
        return response.json()

    def payment(self, payment_id: int) -> Payment:
        return self.panel.run(lambda db: payment_desk.payment_detail(db, payment_id)).payment

    def events(self, payment_id: int | None = None) -> list[tuple[str, str]]:
        async def read(db: Database) -> list[Any]:
            async with db.read() as repos:
                return await repos.payment_events.page(gateway_id=None, before=None, after=None, limit=200)

        return [(e.outcome, e.reason) for e in reversed(self.panel.run(read)) if payment_id in (None, e.payment_id)]

    def wait_for_event(self, count: int, deadline: float = 60) -> list[tuple[str, str]]:
        """Poll until ``count`` payment events are recorded (localstripe waits a second before it sends)."""
        end = time.monotonic() + deadline
        while len(events := self.events()) < count:
            assert time.monotonic() < end, f"only {events} after {deadline} s"
            time.sleep(0.1)
        return events

    def webhook(self, body: bytes, signature: str) -> httpx.Response:
        headers = {"stripe-signature": signature, "content-type": "application/json"}
        return httpx.post(f"{self.server.base_url}/payments/webhook/card", content=body, headers=headers)


def signed(body: bytes, secret: str = SECRET, at: int | None = None) -> str:
    """A ``Stripe-Signature`` header exactly as Stripe (and localstripe) compute it."""
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), b"%d.%s" % (timestamp, body), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def succeeded_event(intent_id: str) -> bytes:
    event = {
        "id": f"evt_{intent_id}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": {"id": intent_id, "object": "payment_intent", "amount": 1}},
    }
    return json.dumps(event).encode()


@pytest.fixture
def shop(database_url: str, start_server: Callable[..., LiveServer], fake_stripe: LocalStripe) -> Iterator[Shop]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.customer("alice", "0")
    options = {
        "secret_key": SECRET_KEY,
        "publishable_key": "pk_test_panel",
        "webhook_secret": SECRET,
        "api_base": fake_stripe.base_url,
        "js_url": fake_stripe.js_url,
    }
    changes = GatewayChanges(min_amount=parse_amount("0.01"), max_amount=parse_amount("10000"))
    panel.run(lambda db: add_gateway(db, "stripe", "card", options=options, changes=changes))
    fake_stripe.register_webhook(server.base_url + payments.webhook_path("card"), SECRET, EVENTS)
    alice = panel.run(lambda db: _user(db, "alice"))
    yield Shop(panel, server, fake_stripe, alice)
    panel.close()


async def _user(db: Database, username: str) -> int:
    async with db.read() as repos:
        customer = await repos.users.by_username(username)
    assert customer is not None
    return customer.id


def test_a_card_payment_credits_the_amount_stripe_confirms_once(shop: Shop) -> None:
    checkout = shop.pay_link("12.35")
    reference = checkout.payment.reference
    assert reference is not None and reference.startswith("pi_")
    assert checkout.url == f"{shop.server.base_url}/funds/payments/{checkout.payment.id}"
    assert checkout.started.client["publishable_key"] == "pk_test_panel"
    intent = shop.stripe_api("GET", f"payment_intents/{reference}")
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (
        1235,
        "usd",
        {"payment": str(checkout.payment.id), "customer": "alice"},
    )
    assert shop.submit(checkout.payment.id, shop.card_token()) == {
        "status": "succeeded",
        "client_secret": intent["client_secret"],
    }
    assert shop.payment(checkout.payment.id).status == "pending"  # nothing is believed before the webhook
    assert shop.wait_for_event(1) == [("credited", "credited 12.35")]
    done = shop.payment(checkout.payment.id)
    assert (done.status, done.amount_confirmed) == ("completed", parse_amount("12.35"))
    assert done.confirmation is not None and done.confirmation["id"] == reference
    assert shop.panel.balance("alice") == "12.35"
    # Stripe retries a webhook it thinks failed: a second genuine delivery credits nothing.
    body = succeeded_event(reference)
    assert shop.webhook(body, signed(body)).status_code == 200
    assert [outcome for outcome, _ in shop.events()] == ["credited", "duplicate"]
    assert shop.panel.balance("alice") == "12.35"
    assert shop.panel.ledger_ok()


@pytest.mark.parametrize(("amount", "cents"), [("0.01", 1), ("0.99", 99), ("10000", 1000000), ("9999.99", 999999)])
def test_amounts_go_to_stripe_as_exact_cents(shop: Shop, amount: str, cents: int) -> None:
    checkout = shop.pay_link(amount)
    assert shop.stripe_api("GET", f"payment_intents/{checkout.payment.reference}")["amount"] == cents
    shop.submit(checkout.payment.id, shop.card_token())
    shop.wait_for_event(1)
    assert shop.panel.balance("alice") == format_amount(parse_amount(amount))
    assert shop.panel.ledger_ok()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("10.00001", "cannot be paid this way: use at most 2 decimals"),
        ("1.005", "cannot be paid this way"),
        ("10000.01", "The maximum for this method is 10000.00"),
    ],
)
def test_an_amount_stripe_cannot_take_exactly_is_refused_before_anything_is_created(
    shop: Shop, amount: str, message: str
) -> None:
    with pytest.raises(Refused, match=message):
        shop.pay_link(amount)
    assert shop.panel.run(lambda db: payment_desk.payments_page(db, PaymentSearch())).items == []


def test_forged_stale_and_foreign_webhooks_credit_nothing_and_are_recorded(shop: Shop) -> None:
    checkout = shop.pay_link("5")
    reference = checkout.payment.reference
    assert reference is not None
    shop.stripe_api("POST", f"payment_intents/{reference}", payment_method="pm_card_visa")
    shop.stripe_api("POST", f"payment_intents/{reference}/confirm")  # paid at Stripe, but:
    body = succeeded_event(reference)
    forged = shop.webhook(body, signed(body, secret="whsec_someone_else"))
    stale = shop.webhook(body, signed(body, at=int(time.time()) - 3600))
    unsigned = shop.webhook(body, "")
    assert [forged.status_code, stale.status_code, unsigned.status_code] == [400, 400, 400]
    other = shop.stripe_api("POST", "payment_intents", amount="500", currency="usd")  # not made by the panel
    other_body = succeeded_event(other["id"])
    assert shop.webhook(other_body, signed(other_body)).status_code == 200
    outcomes = [outcome for outcome, _ in shop.wait_for_event(5)]
    # localstripe's own (genuine) delivery credits it; the rest is recorded and refused.
    assert sorted(outcomes) == sorted(["refused", "refused", "refused", "unknown_reference", "credited"])
    reasons = [reason for outcome, reason in shop.events() if outcome == "refused"]
    assert all(reason.startswith("bad Stripe-Signature") for reason in reasons)
    assert shop.panel.balance("alice") == "5.00"
    assert shop.panel.ledger_ok()


def test_a_payment_intent_changed_at_stripe_to_another_amount_is_not_credited(shop: Shop) -> None:
    checkout = shop.pay_link("20")
    reference = checkout.payment.reference
    shop.stripe_api("POST", f"payment_intents/{reference}", amount="2001")
    shop.submit(checkout.payment.id, shop.card_token())
    assert shop.wait_for_event(1) == [("wrong_amount", "confirmed 20.01, expected 20.00")]
    assert shop.payment(checkout.payment.id).status == "pending"
    assert shop.panel.balance("alice") == "0.00"
    assert shop.panel.ledger_ok()


def test_a_declined_card_is_refused_in_the_customers_words(shop: Shop) -> None:
    checkout = shop.pay_link("3")
    with pytest.raises(Refused):
        shop.submit(checkout.payment.id, shop.card_token("4000000000000341"))
    assert shop.payment(checkout.payment.id).status == "pending"  # another card may still pay it
    assert shop.panel.balance("alice") == "0.00"


def test_fifty_concurrent_deliveries_of_one_webhook_credit_once(shop: Shop) -> None:
    shop.fake.register_webhook("http://127.0.0.1:9/nowhere", SECRET, EVENTS)  # we deliver ourselves
    checkout = shop.pay_link("7.77")
    reference = checkout.payment.reference
    assert reference is not None
    shop.stripe_api("POST", f"payment_intents/{reference}", payment_method="pm_card_visa")
    shop.stripe_api("POST", f"payment_intents/{reference}/confirm")
    body = succeeded_event(reference)
    statuses = asyncio.run(_deliver_at_once(f"{shop.server.base_url}/payments/webhook/card", body, 50))
    assert statuses == [200] * 50
    outcomes = [outcome for outcome, _ in shop.events(checkout.payment.id)]
    assert sorted(outcomes) == sorted(["credited"] + ["duplicate"] * 49)
    assert shop.panel.balance("alice") == "7.77"
    assert shop.panel.ledger_ok()


async def _deliver_at_once(url: str, body: bytes, count: int) -> list[int]:
    """``count`` identical deliveries, each held before its last byte until all are in flight."""
    arrived, released = 0, asyncio.Event()

    async def content() -> Any:
        nonlocal arrived
        yield body[:-1]
        arrived += 1
        if arrived == count:
            released.set()
        await asyncio.wait_for(released.wait(), timeout=60)
        yield body[-1:]

    headers = {"stripe-signature": signed(body), "content-type": "application/json"}
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        responses = await asyncio.gather(*(client.post(url, content=content(), headers=headers) for _ in range(count)))
    return [response.status_code for response in responses]
