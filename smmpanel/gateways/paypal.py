"""PayPal Checkout through the Orders v2 API: create an order, the buyer approves it, capture it.

``start`` creates the order (intent CAPTURE) and sends the customer to its ``approve`` link.
PayPal sends them back to the panel's return page with ``token`` (the order id); ``verify``
then captures the order, which is when money moves. PayPal also delivers its webhooks to the
one registered for the app, and ``verify`` has PayPal vouch for each
(``/v1/notifications/verify-webhook-signature``) before reading anything in it:
``CHECKOUT.ORDER.APPROVED`` captures the order (for a buyer who approved and never came back),
``PAYMENT.CAPTURE.COMPLETED`` reads the order back. Either way the amount and currency come from
PayPal's own record of the order (the capture answer, or ``GET /v2/checkout/orders/{id}``),
never from the browser or the webhook's body. Two captures of one order, at once or not, are
one at PayPal: they carry the same ``PayPal-Request-Id``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from typing import Any

from smmpanel.domain.payments import CENT
from smmpanel.errors import Refused
from smmpanel.gateways.base import (
    Confirmation,
    ConfirmationRefused,
    Gateway,
    Ignored,
    Incoming,
    Option,
    PaymentRequest,
    Started,
    Unavailable,
)
from smmpanel.gateways.wire import Answer, call, decimal_text, parse_decimal
from smmpanel.money import AmountError

CAPTURE_COMPLETED = "PAYMENT.CAPTURE.COMPLETED"
ORDER_APPROVED = "CHECKOUT.ORDER.APPROVED"
ZERO_DECIMAL = frozenset({"HUF", "JPY", "TWD"})
"""Currencies PayPal takes in whole units only; the others take cents."""
TRANSMISSION_HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}
FAILED_CAPTURES = frozenset({"DECLINED", "FAILED"})
ORDER_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$", re.ASCII)
"""What a PayPal order id looks like; anything else never reaches a URL of PayPal's API."""
_tokens: dict[tuple[str, str], tuple[str, float]] = {}
"""(API base, client id + secret digest) → (access token, monotonic expiry): PayPal asks apps to
reuse a token until it expires rather than fetch one per call."""


def paypal_value(amount: int, currency: str) -> str:
    """``amount`` as PayPal's ``value`` for ``currency``: ``"10.00"``, or ``"1000"`` for JPY."""
    return decimal_text(amount, 0 if currency in ZERO_DECIMAL else 2)


class PayPalGateway(Gateway):
    kind = "paypal"
    title = "PayPal"
    minor_unit = CENT
    verifies_returns = True
    options = (
        Option("client_id", "REST app client id (developer.paypal.com → Apps & Credentials)"),
        Option("secret", "REST app secret", secret=True),
        Option("webhook_id", "id PayPal gave the webhook registered for this panel's webhook URL"),
        Option(
            "api_base", "API base URL (sandbox: https://api-m.sandbox.paypal.com)", default="https://api-m.paypal.com"
        ),
        Option("merchant_id", "your PayPal merchant id: when set, a capture paid to another is refused", default=""),
    )

    @property
    def payee(self) -> str | None:
        return self.option("merchant_id") or None

    def _url(self, path: str) -> str:
        return self.option("api_base").rstrip("/") + path

    def _token_key(self) -> tuple[str, str]:
        digest = hashlib.sha256(f"{self.option('client_id')}:{self.option('secret')}".encode()).hexdigest()
        return self.option("api_base"), digest

    async def _token(self) -> str:
        cached = _tokens.get(self._token_key())
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        basic = base64.b64encode(f"{self.option('client_id')}:{self.option('secret')}".encode()).decode()
        answer = await call(
            "PayPal",
            "POST",
            self._url("/v1/oauth2/token"),
            timeout=self.setup.http_timeout,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
        )
        document = answer.json("PayPal")
        token = document.get("access_token")
        if answer.status_code != 200 or not isinstance(token, str):
            raise Unavailable(f"PayPal refused this app's client id or secret ({document.get('error')})")
        lifetime = document.get("expires_in")
        seconds = lifetime - 60 if isinstance(lifetime, int) else 0
        _tokens[self._token_key()] = (token, time.monotonic() + seconds)
        return token

    async def _api(self, method: str, path: str, body: object = None, **headers: str) -> Answer:
        """An authorized call; a token PayPal no longer knows is fetched anew once."""
        for _ in range(2):
            answer = await call(
                "PayPal",
                method,
                self._url(path),
                timeout=self.setup.http_timeout,
                json=body,
                headers={"Authorization": f"Bearer {await self._token()}", "Accept": "application/json", **headers},
            )
            if answer.status_code != 401:
                break
            _tokens.pop(self._token_key(), None)
        if answer.status_code == 401 or answer.status_code >= 500:
            raise Unavailable(f"PayPal answered HTTP {answer.status_code} to {method} {path}")
        return answer

    async def start(self, request: PaymentRequest) -> Started:
        value = paypal_value(request.amount, request.currency)
        answer = await self._api(
            "POST",
            "/v2/checkout/orders",
            {
                "intent": "CAPTURE",
                "purchase_units": [
                    {
                        "custom_id": str(request.payment_id),
                        "description": request.description[:127],
                        "amount": {"currency_code": request.currency, "value": value},
                    }
                ],
                "payment_source": {
                    "paypal": {
                        "experience_context": {
                            "return_url": request.return_url,
                            "cancel_url": request.return_url,
                            "user_action": "PAY_NOW",
                            "shipping_preference": "NO_SHIPPING",
                        }
                    }
                },
            },
            **{"PayPal-Request-Id": f"smmpanel-{self.setup.name}-{request.payment_id}"},
        )
        order = answer.json("PayPal")
        if answer.status_code not in (200, 201):
            raise Refused("PayPal refused the payment: %(reason)s", reason=_issue(order))
        approve = next((link.get("href") for link in order.get("links", []) if link.get("rel") == "approve"), None)
        if not isinstance(order.get("id"), str) or not isinstance(approve, str):
            raise Unavailable("PayPal's order has no id or approve link")
        return Started(reference=order["id"], redirect_url=approve)

    async def verify(self, incoming: Incoming) -> Confirmation:
        if incoming.source == "return":
            return await self._capture(incoming.query.get("token", ""))
        return await self._webhook(incoming)

    async def _capture(self, order_id: str) -> Confirmation:
        """The buyer came back: capture the order (once; PayPal refuses a second capture)."""
        if not ORDER_ID.match(order_id):
            raise ConfirmationRefused("the return names no PayPal order")
        answer = await self._api(
            "POST", f"/v2/checkout/orders/{order_id}/capture", {}, **{"PayPal-Request-Id": f"capture-{order_id}"}
        )
        document = answer.json("PayPal")
        if answer.status_code in (200, 201):
            return self._confirmation(document)
        if answer.status_code == 404:
            raise ConfirmationRefused(f"PayPal knows no order {order_id} of this app")
        confirmation = await self.fetch(order_id)  # already captured, not approved (cancelled) …
        if confirmation is None:
            raise ConfirmationRefused(f"PayPal knows no order {order_id} of this app")
        return confirmation

    async def _webhook(self, incoming: Incoming) -> Confirmation:
        try:
            event = json.loads(incoming.body)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            raise ConfirmationRefused("not a PayPal webhook: the body is no JSON object")
        claim: dict[str, object] = {
            name: incoming.headers.get(header, "") for name, header in TRANSMISSION_HEADERS.items()
        }
        if not all(claim.values()):
            raise ConfirmationRefused("not a PayPal webhook: PAYPAL-TRANSMISSION headers are missing")
        answer = await self._api(
            "POST",
            "/v1/notifications/verify-webhook-signature",
            {**claim, "webhook_id": self.option("webhook_id"), "webhook_event": event},
        )
        status = answer.json("PayPal").get("verification_status")
        if answer.status_code != 200 or status != "SUCCESS":
            raise ConfirmationRefused(f"PayPal did not vouch for this webhook ({status or answer.status_code})")
        resource = event.get("resource")
        if not isinstance(resource, dict):
            raise ConfirmationRefused("PayPal's event has no resource")
        if event.get("event_type") == ORDER_APPROVED:  # the buyer may never come back: capture now
            return await self._capture(str(resource.get("id", "")))
        if event.get("event_type") != CAPTURE_COMPLETED:
            raise Ignored(f"PayPal event {event.get('event_type')!r} is not about money arriving")
        related = resource.get("supplementary_data", {}).get("related_ids", {})
        order_id = related.get("order_id") if isinstance(related, dict) else None
        if not isinstance(order_id, str) or not ORDER_ID.match(order_id):
            raise ConfirmationRefused("the capture names no order")
        confirmation = await self.fetch(order_id)
        if confirmation is None:
            raise ConfirmationRefused(f"PayPal knows no order {order_id} of this app")
        return confirmation

    async def fetch(self, reference: str) -> Confirmation | None:
        """PayPal's own record of the order; None when this app has no such order."""
        if not ORDER_ID.match(reference):
            return None
        answer = await self._api("GET", f"/v2/checkout/orders/{reference}")
        if answer.status_code == 404:
            return None
        document = answer.json("PayPal")
        if answer.status_code != 200:
            raise Unavailable(f"PayPal answered HTTP {answer.status_code}: {_issue(document)}")
        return self._confirmation(document)

    def _confirmation(self, order: dict[str, Any]) -> Confirmation:
        """What the order says was paid: its capture when there is one, else what it asks (not final)."""
        units = order.get("purchase_units")
        unit = units[0] if isinstance(units, list) and units and isinstance(units[0], dict) else {}
        captures = unit.get("payments", {}).get("captures") or [{}]
        capture = captures[0] if isinstance(captures[0], dict) else {}
        money = capture.get("amount") or unit.get("amount") or {}
        try:
            amount = parse_decimal(money.get("value"))
        except AmountError as error:
            raise ConfirmationRefused(f"PayPal's amount is unusable: {error}") from None
        payee = unit.get("payee", {})
        return Confirmation(
            reference=str(order.get("id")),
            amount=amount,
            currency=str(money.get("currency_code", "")).upper(),
            final=order.get("status") == "COMPLETED" and capture.get("status") == "COMPLETED",
            raw=order,
            payee=payee.get("merchant_id") if isinstance(payee, dict) else None,
            failed=capture.get("status") in FAILED_CAPTURES or order.get("status") == "VOIDED",
        )


def _issue(document: dict[str, Any]) -> str:
    details = document.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("issue") or details[0].get("description"))
    return str(document.get("message") or document.get("name") or "no reason given")
