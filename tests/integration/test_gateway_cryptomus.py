"""Cryptomus through the simulator on both back ends: the invoice API and its signed webhook.

The webhook's ``sign`` is checked, then the invoice is read back from Cryptomus: the amount credited
is the invoice's own, and a payment short of it (``wrong_amount``) credits nothing. Each test ends
with ``ledger verify``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smmpanel.domain.payments import Verdict
from smmpanel.errors import Refused
from tests.support.gateway_simulator import CRYPTOMUS_MERCHANT, OTHER_CRYPTOMUS_MERCHANT, live_gateway_simulator
from tests.support.payment_bench import Bench, bench
from tests.support.server import LiveServer


@pytest.fixture
def crypto(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Bench]:
    with live_gateway_simulator() as sim, bench(database_url, start_server, sim) as panel:
        options = {
            "merchant_id": CRYPTOMUS_MERCHANT[0],
            "api_key": CRYPTOMUS_MERCHANT[1],
            "api_base": sim.cryptomus_base,
        }
        panel.gateway("cryptomus", "crypto", options, min_amount="0.01", max_amount="5000")
        yield panel


def pay(panel: Bench, uuid: str, **options: Any) -> dict[str, Any]:
    """The payer pays (``payment_amount``, ``status``); the webhook Cryptomus sent, with the panel's answer."""
    delivery: dict[str, Any] = panel.sim.control("POST", f"cryptomus/invoices/{uuid}/pay", options)["delivery"]
    return delivery


def again(panel: Bench, delivery: dict[str, Any], copies: int = 1) -> list[int]:
    outcomes = panel.sim.control("POST", f"deliveries/{delivery['id']}/send", {"copies": copies})["outcomes"]
    return [outcome["status_code"] for outcome in outcomes]


def test_a_cryptomus_payment_credits_once(crypto: Bench) -> None:
    sim = crypto.sim
    checkout = crypto.start("crypto", "15.5")
    uuid = checkout.payment.reference
    assert checkout.url == f"{sim.cryptomus_base}/pay/{uuid}"
    invoice = crypto.sim.cryptomus("/v1/payment/info", {"uuid": uuid}).json()["result"]
    assert (invoice["amount"], invoice["currency"], invoice["order_id"]) == (
        "15.50",
        "USD",
        f"smmpanel-crypto-{checkout.payment.id}",
    )
    paid = sim.http.post(checkout.url)
    assert (paid.status_code, paid.headers["location"]) == (
        303,
        crypto.context.url(f"/funds/payments/{checkout.payment.id}"),
    )
    [webhook] = sim.deliveries("cryptomus")
    assert webhook["status_code"] == 200
    assert again(crypto, webhook) == [200]
    done = crypto.payment(checkout.payment.id)
    assert (done.status, done.amount_confirmed, done.confirmation["status"]) == ("completed", 1_550_000, "paid")
    crypto.settled(checkout.payment.id, "15.50", ["credited", "duplicate"])


@pytest.mark.parametrize(
    ("options", "verdict", "status", "balance"),
    [
        ({"payment_amount": "15.49"}, Verdict.FAILED, "failed", "0.00"),  # wrong_amount: paid too little
        ({"payment_amount": "20"}, Verdict.CREDITED, "completed", "15.50"),  # paid_over: the invoice's amount
        ({"status": "cancel"}, Verdict.FAILED, "failed", "0.00"),
        ({"status": "confirm_check"}, Verdict.NOT_FINAL, "pending", "0.00"),
    ],
)
def test_what_the_payer_sent_decides_and_only_a_settled_invoice_credits(
    crypto: Bench, options: dict[str, str], verdict: Verdict, status: str, balance: str
) -> None:
    checkout = crypto.start("crypto", "15.50")
    assert pay(crypto, checkout.payment.reference or "", **options)["status_code"] == 200
    assert crypto.payment(checkout.payment.id).status == status
    crypto.settled(checkout.payment.id, balance, [verdict.value])


@pytest.mark.parametrize(
    ("change", "verdict"),
    [({"amount": "1.00"}, Verdict.WRONG_AMOUNT), ({"currency": "EUR"}, Verdict.WRONG_CURRENCY)],
)
def test_an_invoice_for_another_amount_or_currency_is_recorded_not_credited(
    crypto: Bench, change: dict[str, str], verdict: Verdict
) -> None:
    checkout = crypto.start("crypto", "10")
    uuid = checkout.payment.reference or ""
    crypto.sim.control("POST", f"cryptomus/invoices/{uuid}", change)
    assert pay(crypto, uuid)["status_code"] == 200
    crypto.settled(checkout.payment.id, "0.00", [verdict.value])


def test_forged_and_foreign_webhooks_are_refused(crypto: Bench) -> None:
    sim = crypto.sim
    checkout = crypto.start("crypto", "10")
    uuid = checkout.payment.reference or ""
    webhook = pay(crypto, uuid, status="confirm_check")
    for changes in ({"sign": "0" * 32}, {"status": "paid"}, {"amount": "10.00000000", "status": "paid"}):
        forged = sim.control("POST", f"deliveries/{webhook['id']}/forge", {"set": changes})["delivery"]
        assert forged["status_code"] == 400, changes
    # another merchant's invoice, its webhook pointed at this panel: signed with their key, not ours
    body = {"amount": "10", "currency": "USD", "order_id": "theirs-1", "url_callback": crypto.webhook_url("crypto")}
    theirs = sim.cryptomus("/v1/payment", body, merchant=OTHER_CRYPTOMUS_MERCHANT).json()["result"]
    assert pay(crypto, theirs["uuid"])["status_code"] == 400
    assert crypto.stray() == [("refused", None)] * 4
    crypto.settled(checkout.payment.id, "0.00", ["not_final"])


def test_an_unknown_invoice_and_a_late_payment_credit_nothing(crypto: Bench) -> None:
    sim = crypto.sim
    body = {
        "amount": "3",
        "currency": "USD",
        "order_id": "not-the-panels",
        "url_callback": crypto.webhook_url("crypto"),
    }
    stranger = sim.cryptomus("/v1/payment", body).json()["result"]
    assert pay(crypto, stranger["uuid"])["status_code"] == 200
    assert crypto.stray() == [("unknown_reference", stranger["uuid"])]
    checkout = crypto.start("crypto", "3")
    crypto.expire(checkout.payment.id)
    late = pay(crypto, checkout.payment.reference or "")
    assert again(crypto, late) == [200]
    assert crypto.payment(checkout.payment.id).status == "expired"
    crypto.settled(checkout.payment.id, "0.00", ["late", "late"])


@pytest.mark.parametrize(("amount", "text"), [("0.01", "0.01"), ("12.35", "12.35"), ("5000", "5000.00")])
def test_cryptomus_is_asked_for_the_exact_amount(crypto: Bench, amount: str, text: str) -> None:
    checkout = crypto.start("crypto", amount)
    uuid = checkout.payment.reference or ""
    assert crypto.sim.cryptomus("/v1/payment/info", {"uuid": uuid}).json()["result"]["amount"] == text
    assert pay(crypto, uuid)["status_code"] == 200
    assert crypto.payment(checkout.payment.id).amount_confirmed == crypto.payment(checkout.payment.id).amount
    crypto.settled(checkout.payment.id, crypto.panel.balance(), ["credited"])


def test_cryptomus_refuses_amounts_outside_its_limits(crypto: Bench) -> None:
    for amount, message in (
        ("0.009", "minimum for this method is 0.01"),
        ("5000.01", "maximum"),
        ("12.34567", "use at most 2 decimals"),
    ):
        with pytest.raises(Refused, match=message):
            crypto.start("crypto", amount)
    assert crypto.panel.ledger_ok()


def test_fifty_concurrent_deliveries_of_one_cryptomus_webhook_credit_once(crypto: Bench) -> None:
    checkout = crypto.start("crypto", "3.21")
    webhook = pay(crypto, checkout.payment.reference or "", send=False)
    assert again(crypto, webhook, copies=50) == [200] * 50
    outcomes = crypto.outcomes(checkout.payment.id)
    assert sorted(outcomes) == ["credited"] + ["duplicate"] * 49
    crypto.settled(checkout.payment.id, "3.21", outcomes)
