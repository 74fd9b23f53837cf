"""PayPal's Orders v2 as a merchant sees it: orders, their approval by the buyer, and their capture.

Shapes follow PayPal's reference (``/v1/oauth2/token``, ``/v2/checkout/orders``,
``/v1/notifications/webhooks``, ``/v1/notifications/verify-webhook-signature``). A buyer
approves an order on ``/checkoutnow?token=ID`` and is sent back to the order's
``return_url`` with ``token`` and ``PayerID``. The approval makes PayPal deliver
``CHECKOUT.ORDER.APPROVED``, and a capture ``PAYMENT.CAPTURE.COMPLETED``, to every webhook of
the app that listens for it, with PayPal's transmission headers (``paypal_webhooks``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

from starlette.responses import Response

from smmpanel.simulators.common import (
    Ids,
    decimal_places,
    decimal_text,
    fixed,
    json_answer,
    optional_text,
)

CURRENCY_DECIMALS = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "CHF": 2, "JPY": 0}
"""The currencies the simulated merchant accounts take, with the decimals PayPal allows for each."""
TOKEN_SECONDS = 32_400


class PayPalError(Exception):
    """An error answer in PayPal's shape: ``name``, ``message``, ``debug_id``, ``details``."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "INVALID_REQUEST": "Request is not well-formed, syntactically incorrect, or violates schema.",
        "UNPROCESSABLE_ENTITY": (
            "The requested action could not be performed, semantically incorrect, or failed business validation."
        ),
        "RESOURCE_NOT_FOUND": "The specified resource does not exist.",
    }
    STATUS: ClassVar[dict[str, int]] = {"INVALID_REQUEST": 400, "UNPROCESSABLE_ENTITY": 422, "RESOURCE_NOT_FOUND": 404}

    def __init__(self, name: str, issue: str, description: str, field_name: str = "", value: str = "") -> None:
        super().__init__(description)
        self.name, self.issue, self.description = name, issue, description
        self.field_name, self.value = field_name, value

    def answer(self) -> Response:
        detail: dict[str, str] = {"issue": self.issue, "description": self.description}
        if self.field_name:
            detail = {"field": self.field_name, "value": self.value, "location": "body", **detail}
        body = {
            "name": self.name,
            "details": [detail],
            "message": self.MESSAGES[self.name],
            "debug_id": secrets.token_hex(7),
            "links": [
                {
                    "href": f"https://developer.paypal.com/docs/api/orders/v2/#error-{self.issue}",
                    "rel": "information_link",
                    "method": "GET",
                }
            ],
        }
        return json_answer(body, self.STATUS[self.name])


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Capture:
    id: str
    amount: dict[str, str]
    breakdown: dict[str, dict[str, str]]
    time: str


@dataclass
class Order:
    id: str
    app: str
    """The client id of the REST app that created it: only that app can read or capture it."""
    reference_id: str
    currency: str
    value: str
    custom_id: str | None
    invoice_id: str | None
    description: str | None
    return_url: str | None
    cancel_url: str | None
    created: str
    updated: str
    status: str = "CREATED"
    payer_id: str | None = None
    capture: Capture | None = None


@dataclass
class PayPal:
    apps: Mapping[str, str]
    """client id → secret of every REST app the simulated PayPal knows."""
    ids: Ids
    tokens: dict[str, str] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    replies: dict[tuple[str, str, str], tuple[int, dict[str, object]]] = field(default_factory=dict)
    """(app, operation, PayPal-Request-Id) → the answer given, for PayPal's idempotent retries."""

    # money

    def amount(self, document: object, path: str) -> tuple[str, str]:
        """A validated ``{currency_code, value}``, the value written with the currency's decimals."""
        if not isinstance(document, dict):
            raise PayPalError("INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "amount is required.", path)
        currency, value = document.get("currency_code"), document.get("value")
        if not isinstance(currency, str) or currency not in CURRENCY_DECIMALS:
            raise PayPalError(
                "UNPROCESSABLE_ENTITY",
                "CURRENCY_NOT_SUPPORTED",
                "Currency code is not currently supported.",
                f"{path}/currency_code",
                str(currency),
            )
        number = decimal_text(value)
        if number is None:
            raise PayPalError(
                "INVALID_REQUEST",
                "INVALID_PARAMETER_SYNTAX",
                "The value of a field does not conform to the expected format.",
                f"{path}/value",
                str(value),
            )
        places = CURRENCY_DECIMALS[currency]
        if decimal_places(number) > places:
            raise PayPalError(
                "INVALID_REQUEST",
                "DECIMAL_PRECISION",
                "If the currency supports decimals, only two decimal place precision is supported.",
                f"{path}/value",
                str(value),
            )
        if number <= 0:
            raise PayPalError(
                "UNPROCESSABLE_ENTITY",
                "CANNOT_BE_ZERO_OR_NEGATIVE",
                "Must be greater than zero.",
                f"{path}/value",
                str(value),
            )
        return currency, fixed(number, places)

    # orders

    def create(self, app: str, body: dict[str, object]) -> Order:
        if body.get("intent") != "CAPTURE":
            raise PayPalError(
                "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "The simulator takes intent CAPTURE only.", "/intent"
            )
        units = body.get("purchase_units")
        if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
            raise PayPalError(
                "INVALID_REQUEST",
                "INVALID_ARRAY_MAX_ITEMS",
                "The simulator takes exactly one purchase unit.",
                "/purchase_units",
            )
        unit: dict[str, object] = units[0]
        currency, value = self.amount(unit.get("amount"), "/purchase_units/@reference_id=='default'/amount")
        context = _experience_context(body)
        now = now_text()
        order = Order(
            id=self.ids.token(17),
            app=app,
            reference_id=optional_text(unit.get("reference_id")) or "default",
            currency=currency,
            value=value,
            custom_id=optional_text(unit.get("custom_id")),
            invoice_id=optional_text(unit.get("invoice_id")),
            description=optional_text(unit.get("description")),
            return_url=optional_text(context.get("return_url")),
            cancel_url=optional_text(context.get("cancel_url")),
            created=now,
            updated=now,
        )
        self.orders[order.id] = order
        return order

    def find(self, app: str, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None or order.app != app:
            raise PayPalError(
                "RESOURCE_NOT_FOUND",
                "INVALID_RESOURCE_ID",
                "Specified resource ID does not exist. Please check the resource ID and try again.",
            )
        return order

    def approve(self, order: Order) -> None:
        order.status, order.payer_id, order.updated = "APPROVED", self.ids.token(13), now_text()

    def capture(self, app: str, order_id: str) -> Order:
        order = self.find(app, order_id)
        if order.status == "COMPLETED":
            raise PayPalError("UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED", "Order already captured.")
        if order.status != "APPROVED":
            raise PayPalError(
                "UNPROCESSABLE_ENTITY",
                "ORDER_NOT_APPROVED",
                "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' "
                "url returned as part of the HATEOAS links within the Create Order call.",
            )
        gross = Decimal(order.value)
        places = CURRENCY_DECIMALS[order.currency]
        fee = min(gross, (gross * Decimal("0.0349") + Decimal("0.49")).quantize(Decimal(1).scaleb(-places)))
        money = {"currency_code": order.currency}
        order.capture = Capture(
            id=self.ids.token(17),
            amount={**money, "value": order.value},
            breakdown={
                "gross_amount": {**money, "value": order.value},
                "paypal_fee": {**money, "value": fixed(fee, places)},
                "net_amount": {**money, "value": fixed(gross - fee, places)},
            },
            time=now_text(),
        )
        order.status, order.updated = "COMPLETED", order.capture.time
        return order

    def change(self, order: Order, fields: Mapping[str, object]) -> None:
        """Test control: the order now asks for another amount or currency, as if PATCHed."""
        currency = fields.get("currency", order.currency)
        value = fields.get("value", order.value)
        order.currency, order.value = self.amount({"currency_code": currency, "value": value}, "")

    # representations

    def merchant_id(self, app: str) -> str:
        return hashlib.sha256(app.encode()).hexdigest()[:13].upper()

    def links(self, order: Order, base: str) -> list[dict[str, str]]:
        api = f"{base}/v2/checkout/orders/{order.id}"
        links = [{"href": api, "rel": "self", "method": "GET"}]
        if order.status == "CREATED":
            links.append({"href": f"{base}/checkoutnow?token={order.id}", "rel": "approve", "method": "GET"})
        if order.status in ("CREATED", "APPROVED"):
            links.append({"href": api, "rel": "update", "method": "PATCH"})
            links.append({"href": f"{api}/capture", "rel": "capture", "method": "POST"})
        return links

    def capture_document(self, order: Order, base: str) -> dict[str, object]:
        capture = order.capture
        assert capture is not None
        document: dict[str, object] = {
            "id": capture.id,
            "status": "COMPLETED",
            "amount": capture.amount,
            "final_capture": True,
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
            "seller_receivable_breakdown": capture.breakdown,
            "links": [
                {"href": f"{base}/v2/payments/captures/{capture.id}", "rel": "self", "method": "GET"},
                {"href": f"{base}/v2/payments/captures/{capture.id}/refund", "rel": "refund", "method": "POST"},
                {"href": f"{base}/v2/checkout/orders/{order.id}", "rel": "up", "method": "GET"},
            ],
            "create_time": capture.time,
            "update_time": capture.time,
        }
        if order.custom_id is not None:
            document["custom_id"] = order.custom_id
        if order.invoice_id is not None:
            document["invoice_id"] = order.invoice_id
        return document

    def order_document(self, order: Order, base: str) -> dict[str, object]:
        unit: dict[str, object] = {
            "reference_id": order.reference_id,
            "amount": {"currency_code": order.currency, "value": order.value},
            "payee": {
                "email_address": f"merchant-{order.app.lower()[:12]}@example.com",
                "merchant_id": self.merchant_id(order.app),
            },
        }
        for name in ("custom_id", "invoice_id", "description"):
            if getattr(order, name) is not None:
                unit[name] = getattr(order, name)
        if order.capture is not None:
            unit["payments"] = {"captures": [self.capture_document(order, base)]}
        document: dict[str, object] = {
            "id": order.id,
            "intent": "CAPTURE",
            "status": order.status,
            "purchase_units": [unit],
            "create_time": order.created,
            "update_time": order.updated,
            "links": self.links(order, base),
        }
        if order.payer_id is not None:
            document["payer"] = {
                "name": {"given_name": "Sim", "surname": "Buyer"},
                "email_address": "buyer@example.com",
                "payer_id": order.payer_id,
                "address": {"country_code": "US"},
            }
        return document


def _experience_context(body: dict[str, object]) -> dict[str, object]:
    """Return URLs from ``payment_source.paypal.experience_context`` or the older ``application_context``."""
    source = body.get("payment_source")
    if isinstance(source, dict) and isinstance(source.get("paypal"), dict):
        context = source["paypal"].get("experience_context")
        if isinstance(context, dict):
            return context
    legacy = body.get("application_context")
    return legacy if isinstance(legacy, dict) else {}
