"""The payment-gateway simulator over real HTTP: each gateway's wire format, signatures and controls."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from smmpanel.gateways.crypto import php_json
from smmpanel.gateways.perfectmoney import v2_hash
from smmpanel.simulators.gateways import KEY_HEADER, GatewaySimulatorSettings
from tests.support.engine import wait_for
from tests.support.gateway_simulator import (
    CRYPTOMUS_MERCHANT,
    OTHER_CRYPTOMUS_MERCHANT,
    OTHER_PAYPAL_APP,
    PM_ACCOUNT,
    LiveGatewaySimulator,
    Merchant,
    live_gateway_simulator,
    merchant,
    simulator_settings,
)

RETURN = "https://panel.test/funds/return?payment=5"
CANCEL = "https://panel.test/funds"


@pytest.fixture
def sim() -> Iterator[LiveGatewaySimulator]:
    with live_gateway_simulator() as simulator:
        yield simulator


@pytest.fixture
def shop() -> Iterator[Merchant]:
    with merchant() as server:
        yield server


# controls


def test_controls_need_the_operators_key(sim: LiveGatewaySimulator) -> None:
    assert sim.http.get("/_sim/deliveries").status_code == 401
    assert sim.http.get("/_sim/deliveries", headers={KEY_HEADER: "wrong-key-1234"}).status_code == 401
    assert sim.control("GET", "deliveries") == {"deliveries": []}


def test_there_is_no_default_control_key() -> None:
    with pytest.raises(TypeError, match="control_key"):
        GatewaySimulatorSettings()  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="at least 8"):
        simulator_settings(control_key="short")


# PayPal


def order_body(value: str = "10.00", currency: str = "USD") -> dict[str, Any]:
    return {
        "intent": "CAPTURE",
        "purchase_units": [{"custom_id": "payment-5", "amount": {"currency_code": currency, "value": value}}],
        "payment_source": {"paypal": {"experience_context": {"return_url": RETURN, "cancel_url": CANCEL}}},
    }


def approve(sim: LiveGatewaySimulator, approve_url: str) -> httpx.Response:
    page = sim.http.get(approve_url)
    assert page.status_code == 200
    return sim.http.post(approve_url, data={"action": "approve"})


def test_paypal_token_takes_client_credentials_only(sim: LiveGatewaySimulator) -> None:
    wrong = base64.b64encode(b"AeSimClientId0001:not-the-secret").decode()
    answer = sim.http.post(
        "/paypal/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {wrong}"},
    )
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")
    token = sim.paypal_token()
    assert sim.paypal("GET", "/v2/checkout/orders/NOPE", "not-a-token").status_code == 401
    assert sim.paypal("GET", "/v2/checkout/orders/NOPE", token).json()["name"] == "RESOURCE_NOT_FOUND"


def test_paypal_order_is_created_approved_and_captured_once(sim: LiveGatewaySimulator) -> None:
    token = sim.paypal_token()
    created = sim.paypal("POST", "/v2/checkout/orders", token, order_body("10"))
    assert created.status_code == 201
    order = created.json()
    assert set(order) == {"id", "status", "links"} and order["status"] == "CREATED"
    links = {link["rel"]: link for link in order["links"]}
    assert set(links) == {"self", "approve", "update", "capture"}
    not_yet = sim.paypal("POST", f"/v2/checkout/orders/{order['id']}/capture", token, {})
    assert (not_yet.status_code, not_yet.json()["details"][0]["issue"]) == (422, "ORDER_NOT_APPROVED")

    back = approve(sim, links["approve"]["href"])
    assert back.status_code == 303
    location = urlsplit(back.headers["location"])
    query = parse_qs(location.query)
    assert (location.netloc, location.path, query["payment"], query["token"]) == (
        "panel.test",
        "/funds/return",
        ["5"],
        [order["id"]],
    )
    assert query["PayerID"][0]

    captured = sim.paypal(
        "POST", f"/v2/checkout/orders/{order['id']}/capture", token, {}, **{"PayPal-Request-Id": "r1"}
    )
    assert captured.status_code == 201
    document = captured.json()
    assert document["status"] == "COMPLETED"
    capture = document["purchase_units"][0]["payments"]["captures"][0]
    assert (capture["status"], capture["amount"], capture["custom_id"]) == (
        "COMPLETED",
        {"currency_code": "USD", "value": "10.00"},
        "payment-5",
    )
    breakdown = capture["seller_receivable_breakdown"]
    assert (breakdown["paypal_fee"]["value"], breakdown["net_amount"]["value"]) == ("0.84", "9.16")
    retried = sim.paypal("POST", f"/v2/checkout/orders/{order['id']}/capture", token, {}, **{"PayPal-Request-Id": "r1"})
    assert (retried.status_code, retried.json()) == (200, document)
    again = sim.paypal("POST", f"/v2/checkout/orders/{order['id']}/capture", token, {})
    assert (again.status_code, again.json()["details"][0]["issue"]) == (422, "ORDER_ALREADY_CAPTURED")
    assert sim.paypal("GET", f"/v2/checkout/orders/{order['id']}", token).json() == document
    other = sim.paypal_token(OTHER_PAYPAL_APP)
    assert sim.paypal("GET", f"/v2/checkout/orders/{order['id']}", other).status_code == 404


@pytest.mark.parametrize(
    ("value", "currency", "status", "issue"),
    [
        ("10.001", "USD", 400, "DECIMAL_PRECISION"),
        ("0.00", "USD", 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
        ("1e3", "USD", 400, "INVALID_PARAMETER_SYNTAX"),
        ("5.5", "JPY", 400, "DECIMAL_PRECISION"),
        ("5.00", "XXX", 422, "CURRENCY_NOT_SUPPORTED"),
    ],
)
def test_paypal_refuses_amounts_it_cannot_charge(
    sim: LiveGatewaySimulator, value: str, currency: str, status: int, issue: str
) -> None:
    answer = sim.paypal("POST", "/v2/checkout/orders", sim.paypal_token(), order_body(value, currency))
    assert (answer.status_code, answer.json()["details"][0]["issue"]) == (status, issue)


def test_paypal_delivers_a_capture_webhook_that_only_it_can_vouch_for(
    sim: LiveGatewaySimulator, shop: Merchant
) -> None:
    token = sim.paypal_token()
    hook = sim.paypal(
        "POST",
        "/v1/notifications/webhooks",
        token,
        {"url": shop.url, "event_types": [{"name": "PAYMENT.CAPTURE.COMPLETED"}]},
    )
    assert hook.status_code == 201
    webhook_id = hook.json()["id"]
    order = sim.paypal("POST", "/v2/checkout/orders", token, order_body("0.01")).json()
    approve(sim, f"/paypal/checkoutnow?token={order['id']}")
    sim.paypal("POST", f"/v2/checkout/orders/{order['id']}/capture", token, {})

    received = wait_for(lambda: shop.received, "the capture webhook")[0]
    event = json.loads(received.body)
    assert event["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
    assert event["resource"]["supplementary_data"]["related_ids"]["order_id"] == order["id"]
    assert event["resource"]["amount"] == {"currency_code": "USD", "value": "0.01"}
    assert received.headers["paypal-auth-algo"] == "SHA256withRSA"
    claim = {
        "auth_algo": received.headers["paypal-auth-algo"],
        "cert_url": received.headers["paypal-cert-url"],
        "transmission_id": received.headers["paypal-transmission-id"],
        "transmission_sig": received.headers["paypal-transmission-sig"],
        "transmission_time": received.headers["paypal-transmission-time"],
        "webhook_id": webhook_id,
        "webhook_event": event,
    }

    def verdict(body: dict[str, Any], as_token: str = token) -> str:
        answer = sim.paypal("POST", "/v1/notifications/verify-webhook-signature", as_token, body)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["verification_status"])

    assert verdict(claim) == "SUCCESS"
    richer = json.loads(received.body)
    richer["resource"]["amount"]["value"] = "1000.00"
    assert verdict({**claim, "webhook_event": richer}) == "FAILURE"
    assert verdict({**claim, "transmission_sig": base64.b64encode(b"x" * 32).decode()}) == "FAILURE"
    assert verdict({**claim, "webhook_id": "ANOTHERWEBHOOK01"}) == "FAILURE"
    assert verdict(claim, sim.paypal_token(OTHER_PAYPAL_APP)) == "FAILURE"
    missing = sim.paypal("POST", "/v1/notifications/verify-webhook-signature", token, {"webhook_id": webhook_id})
    assert missing.status_code == 400


def test_recorded_deliveries_are_sent_again_at_once_or_forged() -> None:
    with live_gateway_simulator(notify=False) as sim, merchant() as shop:
        token = sim.paypal_token()
        sim.paypal("POST", "/v1/notifications/webhooks", token, {"url": shop.url, "event_types": [{"name": "*"}]})
        order = sim.paypal("POST", "/v2/checkout/orders", token, order_body()).json()
        approve(sim, f"/paypal/checkoutnow?token={order['id']}")
        sim.paypal("POST", f"/v2/checkout/orders/{order['id']}/capture", token, {})
        approved, delivery = sim.deliveries("paypal")
        assert json.loads(approved["body"])["event_type"] == "CHECKOUT.ORDER.APPROVED"
        assert json.loads(approved["body"])["resource"]["status"] == "APPROVED"
        assert (delivery["attempts"], shop.received) == (0, [])

        sent = sim.control("POST", f"deliveries/{delivery['id']}/send", {"copies": 50})
        assert [outcome["status_code"] for outcome in sent["outcomes"]] == [200] * 50
        assert len(shop.received) == 50 and {r.body for r in shop.received} == {delivery["body"].encode()}

        forged = sim.control(
            "POST", f"deliveries/{delivery['id']}/forge", {"set": {"resource.amount.value": "999.00"}}
        )["delivery"]
        assert forged["forged"] and forged["status_code"] == 200
        assert json.loads(shop.received[-1].body)["resource"]["amount"]["value"] == "999.00"
        assert shop.received[-1].headers["paypal-transmission-sig"] == delivery["headers"]["PAYPAL-TRANSMISSION-SIG"]


# Perfect Money


def sci_form(**changes: str) -> dict[str, str]:
    form = {
        "PAYEE_ACCOUNT": PM_ACCOUNT[0],
        "PAYEE_NAME": "Demo panel",
        "PAYMENT_ID": "42",
        "PAYMENT_AMOUNT": "12.5",
        "PAYMENT_UNITS": "USD",
        "STATUS_URL": "",
        "PAYMENT_URL": RETURN,
        "PAYMENT_URL_METHOD": "GET",
        "NOPAYMENT_URL": CANCEL,
        "NOPAYMENT_URL_METHOD": "GET",
        "BAGGAGE_FIELDS": "ORDER_NUM",
        "ORDER_NUM": "A-1",
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value != "-"}


def test_v2_hash_is_the_documented_md5_chain() -> None:
    fields = {
        "PAYMENT_ID": "42",
        "PAYEE_ACCOUNT": "U1234567",
        "PAYMENT_AMOUNT": "12.50",
        "PAYMENT_UNITS": "USD",
        "PAYMENT_BATCH_NUM": "500123",
        "PAYER_ACCOUNT": "U1000001",
        "TIMESTAMPGMT": "1700000000",
    }
    secret = hashlib.md5(b"alternate-passphrase-1").hexdigest().upper()
    chain = f"42:U1234567:12.50:USD:500123:U1000001:{secret}:1700000000"
    assert v2_hash(fields, "alternate-passphrase-1") == hashlib.md5(chain.encode()).hexdigest().upper()
    without_id = {name: value for name, value in fields.items() if name != "PAYMENT_ID"}
    assert v2_hash(without_id, "alternate-passphrase-1") == hashlib.md5(f"NULL{chain[2:]}".encode()).hexdigest().upper()


def test_perfect_money_posts_a_signed_status_then_returns_the_payer(sim: LiveGatewaySimulator, shop: Merchant) -> None:
    step1 = sim.http.post("/perfectmoney/api/step1.asp", data=sci_form(STATUS_URL=shop.url))
    assert step1.status_code == 303
    checkout = step1.headers["location"]
    assert "12.50 USD" in sim.http.get(checkout).text
    paid = sim.http.post(checkout, data={"action": "pay", "PAYER_ACCOUNT": "U5550001"})

    [status] = shop.received  # posted before the payer was sent back
    assert status.headers["content-type"] == "application/x-www-form-urlencoded"
    fields = dict(parse_qsl(status.body.decode()))
    assert list(fields) == [
        "PAYMENT_ID",
        "PAYEE_ACCOUNT",
        "PAYMENT_AMOUNT",
        "PAYMENT_UNITS",
        "PAYMENT_BATCH_NUM",
        "PAYER_ACCOUNT",
        "TIMESTAMPGMT",
        "V2_HASH",
        "ORDER_NUM",
    ]
    assert (fields["PAYMENT_ID"], fields["PAYMENT_AMOUNT"], fields["PAYER_ACCOUNT"], fields["ORDER_NUM"]) == (
        "42",
        "12.50",
        "U5550001",
        "A-1",
    )
    assert fields["V2_HASH"] == v2_hash(fields, PM_ACCOUNT[1])
    assert paid.status_code == 303
    back = urlsplit(paid.headers["location"])
    assert dict(parse_qsl(back.query)) == {"payment": "5", **fields}
    assert sim.http.post(checkout, data={"action": "pay"}).status_code == 409


def test_perfect_money_returns_by_post_and_cancels_to_nopayment_url(sim: LiveGatewaySimulator) -> None:
    checkout = sim.http.post("/perfectmoney/api/step1.asp", data=sci_form(PAYMENT_URL_METHOD="POST")).headers[
        "location"
    ]
    page = sim.http.post(checkout, data={"action": "pay"})
    assert page.status_code == 200
    assert f'action="{RETURN.replace("&", "&amp;")}"' in page.text and 'name="V2_HASH"' in page.text
    assert sim.deliveries("perfectmoney") == []  # no STATUS_URL, nothing posted

    other = sim.http.post("/perfectmoney/api/step1.asp", data=sci_form(PAYMENT_ID="43")).headers["location"]
    cancelled = sim.http.post(other, data={"action": "cancel"})
    assert cancelled.headers["location"] == f"{CANCEL}?PAYMENT_ID=43"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"PAYEE_ACCOUNT": "U0000000"}, "Invalid PAYEE_ACCOUNT"),
        ({"PAYMENT_UNITS": "EUR"}, "Invalid PAYMENT_UNITS for this PAYEE_ACCOUNT"),
        ({"PAYMENT_AMOUNT": "1.005"}, "Invalid PAYMENT_AMOUNT"),
        ({"PAYMENT_AMOUNT": "0"}, "Invalid PAYMENT_AMOUNT"),
        ({"PAYMENT_URL": "-"}, "Invalid PAYMENT_URL"),
    ],
)
def test_perfect_money_refuses_a_form_it_cannot_take(
    sim: LiveGatewaySimulator, changes: dict[str, str], error: str
) -> None:
    answer = sim.http.post("/perfectmoney/api/step1.asp", data=sci_form(**changes))
    assert answer.status_code == 400 and f'<p id="error">{error}</p>' in answer.text


def test_perfect_money_signs_what_the_payer_posted_without_a_payment_id(sim: LiveGatewaySimulator) -> None:
    checkout = sim.http.post("/perfectmoney/api/step1.asp", data=sci_form(PAYMENT_ID="-", PAYMENT_AMOUNT="0.01"))
    checkout_id = checkout.headers["location"].rsplit("/", 1)[1]
    paid = sim.control("POST", f"perfectmoney/checkouts/{checkout_id}/pay", {"payer_account": "U5550002"})
    assert "PAYMENT_ID" not in paid["fields"] and paid["fields"]["PAYMENT_AMOUNT"] == "0.01"
    assert paid["fields"]["V2_HASH"] == v2_hash(paid["fields"], PM_ACCOUNT[1])


# Cryptomus


def invoice_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": "15.5",
        "currency": "USD",
        "order_id": "payment-77",
        "url_return": CANCEL,
        "url_success": RETURN,
        "additional_data": "customer a/b",
    }
    return {**body, **changes}


def test_php_json_is_phps_json_encode_with_unescaped_unicode() -> None:
    document = {"url": "https://x.test/cb", "name": "Zoë ✓", "none": None, "ok": True, "n": 5, "q": 'say "hi"\n'}
    assert php_json(document) == (
        '{"url":"https:\\/\\/x.test\\/cb","name":"Zoë ✓","none":null,"ok":true,"n":5,"q":"say \\"hi\\"\\n"}'
    )
    assert php_json({"sep": "a\u2028b"}) == '{"sep":"a\\u2028b"}'


def test_cryptomus_invoice_needs_the_merchants_signature(sim: LiveGatewaySimulator) -> None:
    forged = sim.cryptomus("/v1/payment", invoice_body(), merchant=(CRYPTOMUS_MERCHANT[0], "not-the-key"))
    assert (forged.status_code, forged.json()) == (401, {"state": 1, "message": "Invalid Sign"})
    invalid = sim.cryptomus("/v1/payment", invoice_body(amount="ten", order_id="has space"))
    assert invalid.status_code == 422 and set(invalid.json()["errors"]) == {"amount", "order_id"}
    sub_cent = sim.cryptomus("/v1/payment", invoice_body(amount="10.001"))
    assert (sub_cent.status_code, sub_cent.json()["errors"]) == (422, {"amount": ["validation.decimal"]})
    in_btc = sim.cryptomus("/v1/payment", invoice_body(amount="0.00012345", currency="BTC", order_id="btc-1"))
    assert in_btc.json()["result"]["amount"] == "0.00012345"

    created = sim.cryptomus("/v1/payment", invoice_body())
    assert created.status_code == 200
    invoice = created.json()["result"]
    assert created.json()["state"] == 0
    assert (invoice["amount"], invoice["currency"], invoice["status"], invoice["is_final"]) == (
        "15.50",
        "USD",
        "check",
        False,
    )
    assert invoice["url"] == f"{sim.cryptomus_base}/pay/{invoice['uuid']}"
    assert sim.cryptomus("/v1/payment", invoice_body()).json()["result"]["uuid"] == invoice["uuid"]
    by_order = sim.cryptomus("/v1/payment/info", {"order_id": "payment-77"}).json()["result"]
    assert by_order["uuid"] == invoice["uuid"]
    elsewhere = sim.cryptomus("/v1/payment/info", {"uuid": invoice["uuid"]}, merchant=OTHER_CRYPTOMUS_MERCHANT)
    assert elsewhere.status_code == 404


def test_cryptomus_ipn_is_signed_over_phps_encoding(sim: LiveGatewaySimulator, shop: Merchant) -> None:
    invoice = sim.cryptomus("/v1/payment", invoice_body(url_callback=shop.url)).json()["result"]
    assert "15.50 USD" in sim.http.get(invoice["url"]).text
    paid = sim.http.post(invoice["url"])
    assert (paid.status_code, paid.headers["location"]) == (303, RETURN)

    [ipn] = shop.received
    assert b'"additional_data":"customer a\\/b"' in ipn.body
    body = json.loads(ipn.body)
    sign = body.pop("sign")
    assert sign == hashlib.md5(base64.b64encode(php_json(body).encode()) + CRYPTOMUS_MERCHANT[1].encode()).hexdigest()
    assert (body["uuid"], body["order_id"], body["status"], body["is_final"]) == (
        invoice["uuid"],
        "payment-77",
        "paid",
        True,
    )
    assert (body["amount"], body["payment_amount"], body["currency"]) == ("15.50000000", "15.50000000", "USD")
    info = sim.cryptomus("/v1/payment/info", {"uuid": invoice["uuid"]}).json()["result"]
    assert (info["status"], info["payment_amount"], info["is_final"]) == ("paid", "15.50000000", True)


@pytest.mark.parametrize(("paid", "status"), [("15.49", "wrong_amount"), ("20", "paid_over"), ("15.50", "paid")])
def test_cryptomus_status_follows_what_the_payer_sent(sim: LiveGatewaySimulator, paid: str, status: str) -> None:
    invoice = sim.cryptomus("/v1/payment", invoice_body()).json()["result"]
    answer = sim.control("POST", f"cryptomus/invoices/{invoice['uuid']}/pay", {"payment_amount": paid})
    assert answer["delivery"] is None  # no url_callback, no webhook
    assert (answer["invoice"]["status"], answer["invoice"]["is_final"]) == (status, True)


def test_cryptomus_invoice_can_be_made_to_ask_for_something_else(sim: LiveGatewaySimulator, shop: Merchant) -> None:
    invoice = sim.cryptomus("/v1/payment", invoice_body(url_callback=shop.url)).json()["result"]
    changed = sim.control("POST", f"cryptomus/invoices/{invoice['uuid']}", {"amount": "1.00", "currency": "EUR"})
    assert (changed["invoice"]["amount"], changed["invoice"]["currency"]) == ("1.00", "EUR")
    sim.control("POST", f"cryptomus/invoices/{invoice['uuid']}/pay", {"status": "cancel"})
    body = json.loads(shop.received[-1].body)
    assert (body["status"], body["currency"], body["amount"]) == ("cancel", "EUR", "1.00000000")
