"""Perfect Money through the simulator on both back ends: the SCI form and its signed status post.

The form is unsigned, so these tests play a customer who edits it (amount, currency, payee,
payment id) before it leaves the browser: Perfect Money then signs what was really paid, and the
panel must refuse it. Each test ends with ``ledger verify``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from smmpanel.domain.payments import Verdict
from smmpanel.errors import Refused
from tests.support.gateway_simulator import (
    OTHER_PM_ACCOUNT,
    PM_ACCOUNT,
    PM_EUR_ACCOUNT,
    PM_SECOND_ACCOUNT,
    LiveGatewaySimulator,
    live_gateway_simulator,
)
from tests.support.payment_bench import Bench, bench
from tests.support.server import LiveServer


@pytest.fixture
def pm(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Bench]:
    with live_gateway_simulator() as sim, bench(database_url, start_server, sim) as panel:
        options = {
            "payee_account": PM_ACCOUNT[0],
            "alternate_passphrase": PM_ACCOUNT[1],
            "payee_name": "Demo panel",
            "api_base": sim.perfectmoney_base,
        }
        panel.gateway("perfectmoney", "pm", options, min_amount="0.01", max_amount="1000")
        yield panel


def open_checkout(sim: LiveGatewaySimulator, action: str, form: Mapping[str, str], **edits: str) -> str:
    """The customer's browser posts the form (edited as they like); the checkout page's URL."""
    answer = sim.http.post(action, data={**form, **edits})
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def pay(sim: LiveGatewaySimulator, checkout_url: str, payer: str = "U5550001") -> dict[str, Any]:
    """Pay without a browser; the status post Perfect Money sent, with the panel's answer."""
    checkout_id = checkout_url.rsplit("/", 1)[1]
    delivery: dict[str, Any] = sim.control(
        "POST", f"perfectmoney/checkouts/{checkout_id}/pay", {"payer_account": payer}
    )["delivery"]
    return delivery


def test_a_perfect_money_payment_credits_once(pm: Bench) -> None:
    sim = pm.sim
    checkout = pm.start("pm", "12.5")
    started = checkout.started
    assert (started.redirect_url, started.form_fields["PAYMENT_AMOUNT"]) == (
        f"{sim.perfectmoney_base}/api/step1.asp",
        "12.50",
    )
    assert started.form_fields["STATUS_URL"] == pm.webhook_url("pm")
    assert checkout.url == pm.context.url(f"/funds/payments/{checkout.payment.id}")
    page = open_checkout(sim, started.redirect_url or "", started.form_fields)
    paid = sim.http.post(page, data={"action": "pay", "PAYER_ACCOUNT": "U5550001"})
    [status_post] = sim.deliveries("perfectmoney")
    assert status_post["status_code"] == 200
    back = paid.headers["location"]
    assert back.startswith(checkout.url + "?") and dict(parse_qsl(urlsplit(back).query))["V2_HASH"]
    assert pm.come_back("pm", back) is Verdict.DUPLICATE  # the payer's return carries the same signed fields
    sent = sim.control("POST", f"deliveries/{status_post['id']}/send", {})
    assert sent["outcomes"][0]["status_code"] == 200  # a replayed status post
    done = pm.payment(checkout.payment.id)
    assert (done.status, done.amount_confirmed, done.confirmation["PAYER_ACCOUNT"]) == (
        "completed",
        1_250_000,
        "U5550001",
    )
    pm.settled(checkout.payment.id, "12.50", ["credited", "duplicate", "duplicate"])


@pytest.mark.parametrize(
    ("edits", "verdict"),
    [
        ({"PAYMENT_AMOUNT": "0.01"}, Verdict.WRONG_AMOUNT),
        ({"PAYMENT_AMOUNT": "20.001"}, None),  # Perfect Money itself refuses a third decimal
        ({"PAYEE_ACCOUNT": PM_EUR_ACCOUNT[0], "PAYMENT_UNITS": "EUR"}, Verdict.WRONG_CURRENCY),
        ({"PAYEE_ACCOUNT": PM_SECOND_ACCOUNT[0]}, Verdict.WRONG_PAYEE),
    ],
)
def test_an_edited_form_is_paid_and_signed_but_not_credited(
    pm: Bench, edits: dict[str, str], verdict: Verdict | None
) -> None:
    checkout = pm.start("pm", "20")
    action, form = checkout.started.redirect_url or "", checkout.started.form_fields
    if verdict is None:
        assert pm.sim.http.post(action, data={**form, **edits}).status_code == 400
        pm.settled(checkout.payment.id, "0.00", [])
        return
    assert pay(pm.sim, open_checkout(pm.sim, action, form, **edits))["status_code"] == 200
    assert pm.payment(checkout.payment.id).status == "pending"
    pm.settled(checkout.payment.id, "0.00", [verdict.value])


def test_forged_or_foreign_status_posts_are_refused(pm: Bench) -> None:
    sim = pm.sim
    checkout = pm.start("pm", "5")
    action, form = checkout.started.redirect_url or "", checkout.started.form_fields
    genuine = pay(sim, open_checkout(sim, action, form), payer="U5550003")
    assert genuine["status_code"] == 200
    for changes in ({"V2_HASH": "0" * 32}, {"PAYMENT_AMOUNT": "500.00"}, {"PAYMENT_ID": "424242"}, {"V2_HASH": ""}):
        forged = sim.control("POST", f"deliveries/{genuine['id']}/forge", {"set": changes})["delivery"]
        assert forged["status_code"] == 400, changes
    # paid into another Perfect Money user's account: signed with their passphrase, not ours
    other = pm.start("pm", "5")
    foreign = open_checkout(sim, action, other.started.form_fields, PAYEE_ACCOUNT=OTHER_PM_ACCOUNT[0])
    assert pay(sim, foreign)["status_code"] == 400
    assert pm.stray() == [("refused", None)] * 5
    pm.settled(checkout.payment.id, "5.00", ["credited"])
    pm.settled(other.payment.id, "5.00", [])


def test_an_unknown_payment_id_and_a_late_payment_credit_nothing(pm: Bench) -> None:
    sim = pm.sim
    checkout = pm.start("pm", "7.77")
    action, form = checkout.started.redirect_url or "", checkout.started.form_fields
    assert pay(sim, open_checkout(sim, action, form, PAYMENT_ID="999999"))["status_code"] == 200
    assert pm.stray() == [("unknown_reference", "999999")]
    pm.expire(checkout.payment.id)
    late = pay(sim, open_checkout(sim, action, form))
    assert late["status_code"] == 200
    assert sim.control("POST", f"deliveries/{late['id']}/send", {})["outcomes"][0]["status_code"] == 200
    assert pm.payment(checkout.payment.id).status == "expired"
    pm.settled(checkout.payment.id, "0.00", ["late", "late"])


@pytest.mark.parametrize(("amount", "text"), [("0.01", "0.01"), ("12.35", "12.35"), ("1000", "1000.00")])
def test_perfect_money_is_asked_for_the_exact_amount(pm: Bench, amount: str, text: str) -> None:
    checkout = pm.start("pm", amount)
    form = checkout.started.form_fields
    assert (form["PAYMENT_AMOUNT"], form["PAYMENT_UNITS"], form["PAYMENT_ID"]) == (
        text,
        "USD",
        str(checkout.payment.id),
    )
    paid = pay(pm.sim, open_checkout(pm.sim, checkout.started.redirect_url or "", form))
    assert paid["status_code"] == 200
    pm.settled(checkout.payment.id, pm.panel.balance(), ["credited"])
    assert pm.payment(checkout.payment.id).amount_confirmed == pm.payment(checkout.payment.id).amount


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0.009", "The minimum for this method is 0.01"),
        ("1000.01", "The maximum for this method is 1000.00"),
        ("10.001", "use at most 2 decimals"),
    ],
)
def test_perfect_money_refuses_what_it_cannot_be_asked(pm: Bench, amount: str, message: str) -> None:
    with pytest.raises(Refused, match=message):
        pm.start("pm", amount)
    assert pm.panel.ledger_ok()


def test_a_eur_account_takes_no_usd_payment(pm: Bench) -> None:
    options = {"payee_account": PM_EUR_ACCOUNT[0], "alternate_passphrase": PM_EUR_ACCOUNT[1]}
    pm.gateway("perfectmoney", "pm-eur", {**options, "api_base": pm.sim.perfectmoney_base})
    with pytest.raises(Refused, match="cannot take payments in USD"):
        pm.start("pm-eur", "10")


def test_a_payer_who_cancels_comes_back_to_a_payment_still_pending(pm: Bench) -> None:
    checkout = pm.start("pm", "8")
    page = open_checkout(pm.sim, checkout.started.redirect_url or "", checkout.started.form_fields)
    back = pm.sim.http.post(page, data={"action": "cancel"}).headers["location"]
    assert back == f"{checkout.url}?PAYMENT_ID={checkout.payment.id}"
    assert pm.come_back("pm", back) is Verdict.IGNORED
    assert pm.stray() == [("ignored", None)]
    assert pm.payment(checkout.payment.id).status == "pending"
    pm.settled(checkout.payment.id, "0.00", [])
