"""PayPal through the simulator on both back ends: Orders v2 and the capture webhook credit exactly once.

Each test ends with ``ledger verify``. The customer's return goes through ``payments.receive`` as the
return page hands it; the webhook reaches the panel's own URL over HTTP from the simulator.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smmpanel.domain.payments import Verdict
from smmpanel.errors import Refused
from tests.support.engine import wait_for
from tests.support.gateway_simulator import OTHER_PAYPAL_APP, PAYPAL_APP, LiveGatewaySimulator, live_gateway_simulator
from tests.support.payment_bench import Bench, bench
from tests.support.server import LiveServer

ORDER_WEBHOOK = {"event_types": [{"name": "PAYMENT.CAPTURE.COMPLETED"}]}


@pytest.fixture
def quiet(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[Bench]:
    """A panel with a PayPal gateway; the simulator records its webhooks and sends them when told."""
    with live_gateway_simulator(notify=False) as sim, bench(database_url, start_server, sim) as panel:
        paypal_gateway(panel)
        yield panel


def paypal_gateway(panel: Bench, name: str = "paypal", **options: str) -> None:
    sim = panel.sim
    token = sim.paypal_token()
    hook = sim.paypal("POST", "/v1/notifications/webhooks", token, {"url": panel.webhook_url(name), **ORDER_WEBHOOK})
    values = {
        "client_id": PAYPAL_APP[0],
        "secret": PAYPAL_APP[1],
        "webhook_id": hook.json()["id"],
        "api_base": sim.paypal_base,
        **options,
    }
    panel.gateway("paypal", name, values, min_amount="0.01", max_amount="500")


def approve(sim: LiveGatewaySimulator, approve_url: str) -> str:
    """The buyer approves on PayPal's page; where PayPal sends them back ('' for an order with no return URL)."""
    answer = sim.http.post(approve_url, data={"action": "approve"})
    assert answer.status_code in (200, 303), answer.text
    return answer.headers.get("location", "")


def webhooks(sim: LiveGatewaySimulator) -> list[dict[str, Any]]:
    return sim.deliveries("paypal")


def send(sim: LiveGatewaySimulator, delivery: dict[str, Any], copies: int = 1) -> list[int]:
    outcomes = sim.control("POST", f"deliveries/{delivery['id']}/send", {"copies": copies})["outcomes"]
    return [outcome["status_code"] for outcome in outcomes]


def forge(sim: LiveGatewaySimulator, delivery: dict[str, Any], **changes: Any) -> int:
    status: int = sim.control("POST", f"deliveries/{delivery['id']}/forge", changes)["delivery"]["status_code"]
    return status


def test_a_paypal_payment_credits_once_by_return_and_webhook(
    database_url: str, start_server: Callable[..., LiveServer]
) -> None:
    with live_gateway_simulator() as sim, bench(database_url, start_server, sim) as panel:
        paypal_gateway(panel)
        checkout = panel.start("paypal", "10.01")
        assert checkout.url == f"{sim.paypal_base}/checkoutnow?token={checkout.payment.reference}"
        back = approve(sim, checkout.url)
        assert back.startswith(panel.context.url(f"/funds/payments/{checkout.payment.id}?"))
        # the capture makes PayPal send its webhook at once: either may be the one that credits
        assert panel.come_back("paypal", back) in (Verdict.CREDITED, Verdict.DUPLICATE)
        [webhook] = wait_for(lambda: [d for d in webhooks(sim) if d["status_code"]], "PayPal's webhook")
        assert webhook["status_code"] == 200
        assert panel.come_back("paypal", back) is Verdict.DUPLICATE  # the customer reloads the page
        assert sorted(panel.outcomes(checkout.payment.id)) == ["credited", "duplicate", "duplicate"]
        done = panel.payment(checkout.payment.id)
        assert (done.status, done.amount_confirmed) == ("completed", 1_001_000)
        assert done.confirmation["purchase_units"][0]["payments"]["captures"][0]["amount"]["value"] == "10.01"
        panel.settled(checkout.payment.id, "10.01", panel.outcomes(checkout.payment.id))


@pytest.mark.parametrize(("amount", "value"), [("0.01", "0.01"), ("12.35", "12.35"), ("500", "500.00")])
def test_paypal_is_asked_for_the_exact_amount(quiet: Bench, amount: str, value: str) -> None:
    checkout = quiet.start("paypal", amount)
    order = quiet.sim.paypal("GET", f"/v2/checkout/orders/{checkout.payment.reference}", quiet.sim.paypal_token())
    assert order.json()["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": value}
    assert order.json()["purchase_units"][0]["custom_id"] == str(checkout.payment.id)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0.001", "The minimum for this method is 0.01"),
        ("500.01", "The maximum for this method is 500.00"),
        ("12.34567", "use at most 2 decimals"),
    ],
)
def test_paypal_refuses_amounts_outside_its_limits_or_below_a_cent(quiet: Bench, amount: str, message: str) -> None:
    with pytest.raises(Refused, match=message):
        quiet.start("paypal", amount)
    assert quiet.sim.deliveries("paypal") == [] and quiet.panel.ledger_ok()


def test_replayed_and_forged_paypal_webhooks_credit_nothing_more(quiet: Bench) -> None:
    sim = quiet.sim
    checkout = quiet.start("paypal", "10.00")
    assert quiet.come_back("paypal", approve(sim, checkout.url)) is Verdict.CREDITED
    [webhook] = webhooks(sim)
    assert send(sim, webhook) == [200]  # PayPal's own delivery, after the return credited
    assert send(sim, webhook) == [200]  # and a replay of it
    signature = "PAYPAL-TRANSMISSION-SIG"
    assert forge(sim, webhook, headers={signature: webhook["headers"][signature][::-1]}) == 400
    assert forge(sim, webhook, set={"resource.amount.value": "1000.00"}) == 400
    assert forge(sim, webhook, headers={"PAYPAL-TRANSMISSION-ID": ""}) == 400
    assert quiet.stray() == [("refused", None)] * 3
    quiet.settled(checkout.payment.id, "10.00", ["credited", "duplicate", "duplicate"])


@pytest.mark.parametrize(
    ("change", "verdict"),
    [({"value": "9.99"}, Verdict.WRONG_AMOUNT), ({"currency": "EUR"}, Verdict.WRONG_CURRENCY)],
)
def test_a_capture_of_another_amount_or_currency_is_recorded_not_credited(
    quiet: Bench, change: dict[str, str], verdict: Verdict
) -> None:
    sim = quiet.sim
    checkout = quiet.start("paypal", "10.00")
    sim.control("POST", f"paypal/orders/{checkout.payment.reference}", change)  # the order was altered at PayPal
    back = approve(sim, checkout.url)
    assert quiet.come_back("paypal", back) is verdict
    assert send(sim, webhooks(sim)[0]) == [200]
    assert quiet.payment(checkout.payment.id).status == "pending"
    quiet.settled(checkout.payment.id, "0.00", [verdict.value, verdict.value])


def test_paypal_money_paid_to_another_merchant_is_refused(
    database_url: str, start_server: Callable[..., LiveServer]
) -> None:
    with live_gateway_simulator(notify=False) as sim, bench(database_url, start_server, sim) as panel:
        paypal_gateway(panel, merchant_id="NOTOURMERCHANT")
        checkout = panel.start("paypal", "10.00")
        assert panel.come_back("paypal", approve(sim, checkout.url)) is Verdict.WRONG_PAYEE
        # another merchant's webhook, pointed at this panel: PayPal does not vouch for it here
        other = sim.paypal_token(OTHER_PAYPAL_APP)
        sim.paypal("POST", "/v1/notifications/webhooks", other, {"url": panel.webhook_url("paypal"), **ORDER_WEBHOOK})
        theirs = sim.paypal("POST", "/v2/checkout/orders", other, _order("10.00")).json()
        approve(sim, f"/paypal/checkoutnow?token={theirs['id']}")
        sim.paypal("POST", f"/v2/checkout/orders/{theirs['id']}/capture", other, {})
        assert send(sim, webhooks(sim)[-1]) == [400]
        assert panel.stray() == [("refused", None)]
        panel.settled(checkout.payment.id, "0.00", ["wrong_payee"])


def _order(value: str) -> dict[str, Any]:
    return {"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "USD", "value": value}}]}


def test_an_unknown_order_and_a_late_return_credit_nothing(quiet: Bench) -> None:
    sim = quiet.sim
    token = sim.paypal_token()
    stranger = sim.paypal("POST", "/v2/checkout/orders", token, _order("7.00")).json()  # not made by the panel
    approve(sim, f"/paypal/checkoutnow?token={stranger['id']}")
    sim.paypal("POST", f"/v2/checkout/orders/{stranger['id']}/capture", token, {})
    assert send(sim, webhooks(sim)[0]) == [200]
    assert quiet.stray() == [("unknown_reference", stranger["id"])]

    checkout = quiet.start("paypal", "10.00")
    quiet.expire(checkout.payment.id)
    assert quiet.come_back("paypal", approve(sim, checkout.url)) is Verdict.LATE
    assert send(sim, webhooks(sim)[1]) == [200]
    assert quiet.payment(checkout.payment.id).status == "expired"
    assert quiet.come_back("paypal", "/?token=NOSUCHORDER") is Verdict.REFUSED
    assert quiet.come_back("paypal", "/?token=../../v1/notifications/webhooks%3F") is Verdict.REFUSED
    quiet.settled(checkout.payment.id, "0.00", ["late", "late"])


def test_fifty_concurrent_deliveries_of_one_paypal_webhook_credit_once(quiet: Bench) -> None:
    sim = quiet.sim
    checkout = quiet.start("paypal", "3.21")
    approve(sim, checkout.url)
    # The panel's capture reached PayPal but the customer never came back: the webhook must credit.
    sim.paypal("POST", f"/v2/checkout/orders/{checkout.payment.reference}/capture", sim.paypal_token(), {})
    assert send(sim, webhooks(sim)[0], copies=50) == [200] * 50
    outcomes = quiet.outcomes(checkout.payment.id)
    assert sorted(outcomes) == ["credited"] + ["duplicate"] * 49
    quiet.settled(checkout.payment.id, "3.21", outcomes)


def test_a_buyer_who_approves_and_never_comes_back_is_credited_by_the_approval_webhook(
    database_url: str, start_server: Callable[..., LiveServer]
) -> None:
    with live_gateway_simulator(notify=False) as sim, bench(database_url, start_server, sim) as panel:
        events = {"event_types": [{"name": "CHECKOUT.ORDER.APPROVED"}, {"name": "PAYMENT.CAPTURE.COMPLETED"}]}
        token = sim.paypal_token()
        hook = sim.paypal("POST", "/v1/notifications/webhooks", token, {"url": panel.webhook_url("paypal"), **events})
        options = {"client_id": PAYPAL_APP[0], "secret": PAYPAL_APP[1], "webhook_id": hook.json()["id"]}
        panel.gateway("paypal", "paypal", {**options, "api_base": sim.paypal_base})
        checkout = panel.start("paypal", "4.20")
        back = approve(sim, checkout.url)  # and the browser is closed
        [approval] = webhooks(sim)
        assert send(sim, approval) == [200]  # the panel captures the order itself
        captured = webhooks(sim)[1]
        assert json.loads(captured["body"])["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
        assert send(sim, captured) == [200]
        assert send(sim, approval) == [200]  # PayPal retries the approval: captured once all the same
        assert panel.come_back("paypal", back) is Verdict.DUPLICATE  # the buyer comes back after all
        assert len(webhooks(sim)) == 2
        panel.settled(checkout.payment.id, "4.20", ["credited", "duplicate", "duplicate", "duplicate"])
