"""PayPal's webhooks: subscriptions, signed deliveries of ``CHECKOUT.ORDER.APPROVED`` and
``PAYMENT.CAPTURE.COMPLETED``, and the ``verify-webhook-signature`` answer that vouches for one.

PayPal signs a transmission with SHA256withRSA over
``transmission_id|transmission_time|webhook_id|crc32(body)`` using the certificate at
``PAYPAL-CERT-URL``. The simulator signs the same message with an HMAC key of its own instead
(no RSA library needed): a merchant is meant to verify through ``verify-webhook-signature``, and
that answer is honest — SUCCESS only for a transmission this simulator sent, to that webhook of
the calling app, with exactly that event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import zlib
from dataclasses import dataclass, field

import orjson

from smmpanel.simulators.common import JSON_TYPE, Ids, Outbox
from smmpanel.simulators.paypal import Order, PayPalError, now_text

AUTH_ALGO = "SHA256withRSA"
CAPTURE_COMPLETED = "PAYMENT.CAPTURE.COMPLETED"
ORDER_APPROVED = "CHECKOUT.ORDER.APPROVED"
VERIFY_FIELDS = (
    "auth_algo",
    "cert_url",
    "transmission_id",
    "transmission_sig",
    "transmission_time",
    "webhook_id",
    "webhook_event",
)


@dataclass
class Webhook:
    id: str
    app: str
    url: str
    events: tuple[str, ...]

    def listens(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events

    def document(self) -> dict[str, object]:
        return {"id": self.id, "url": self.url, "event_types": [{"name": name} for name in self.events]}


@dataclass(frozen=True)
class Event:
    type: str
    resource_type: str
    resource_version: str
    summary: str


@dataclass(frozen=True)
class Transmission:
    webhook_id: str
    time: str
    sig: str
    cert_url: str
    event: dict[str, object]


@dataclass
class PayPalWebhooks:
    outbox: Outbox
    ids: Ids
    notify: bool
    """Send each delivery at once (in the background, as PayPal does); off, only record it."""
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    transmissions: dict[str, Transmission] = field(default_factory=dict)
    _signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def register(self, app: str, body: dict[str, object]) -> Webhook:
        url, kinds = body.get("url"), body.get("event_types")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise PayPalError("INVALID_REQUEST", "INVALID_PARAMETER_SYNTAX", "url must be an http(s) URL.", "/url")
        names = [kind.get("name") for kind in kinds if isinstance(kind, dict)] if isinstance(kinds, list) else []
        if not names or not all(isinstance(name, str) for name in names):
            raise PayPalError(
                "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "event_types is required.", "/event_types"
            )
        webhook = Webhook(self.ids.token(17), app, url, tuple(str(name) for name in names))
        self.webhooks[webhook.id] = webhook
        return webhook

    def captured(self, order: Order, capture: dict[str, object], merchant_id: str, base: str) -> None:
        """PAYMENT.CAPTURE.COMPLETED, its resource the capture with the order it belongs to."""
        resource = {
            **capture,
            "supplementary_data": {"related_ids": {"order_id": order.id}},
            "payee": {"merchant_id": merchant_id},
        }
        summary = f"Payment completed for {order.value} {order.currency}"
        self._announce(order, Event(CAPTURE_COMPLETED, "capture", "2.0", summary), resource, base)

    def approved(self, order: Order, document: dict[str, object], base: str) -> None:
        """CHECKOUT.ORDER.APPROVED, its resource the order: the buyer approved, nothing is captured yet."""
        summary = "An order has been approved by buyer"
        self._announce(order, Event(ORDER_APPROVED, "checkout-order", "2.0", summary), document, base)

    def _announce(self, order: Order, event: Event, resource: dict[str, object], base: str) -> None:
        """Record ``event`` for each webhook of the order's app listening; send it unless told not to."""
        for webhook in self.webhooks.values():
            if webhook.app == order.app and webhook.listens(event.type):
                delivery = self.outbox.record("paypal", webhook.url, *self._signed(webhook, event, resource, base))
                if self.notify:
                    self.outbox.send_soon(delivery)

    def _signed(
        self, webhook: Webhook, kind: Event, resource: dict[str, object], base: str
    ) -> tuple[dict[str, str], bytes]:
        event_id = f"WH-{self.ids.token(17)}-{self.ids.token(17)}"
        event: dict[str, object] = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": now_text(),
            "resource_type": kind.resource_type,
            "resource_version": kind.resource_version,
            "event_type": kind.type,
            "summary": kind.summary,
            "resource": resource,
            "links": [{"href": f"{base}/v1/notifications/webhooks-events/{event_id}", "rel": "self", "method": "GET"}],
        }
        body = orjson.dumps(event)
        transmission_id = self.ids.uuid()
        time = now_text()
        message = f"{transmission_id}|{time}|{webhook.id}|{zlib.crc32(body)}".encode()
        sig = base64.b64encode(hmac.new(self._signing_key, message, hashlib.sha256).digest()).decode()
        cert_url = f"{base}/v1/notifications/certs/CERT-360caa42-fca2a594-simulated"
        self.transmissions[transmission_id] = Transmission(webhook.id, time, sig, cert_url, orjson.loads(body))
        headers = {
            "Content-Type": JSON_TYPE,
            "User-Agent": "PayPal/AUHD-214.0-58843046",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": time,
            "PAYPAL-TRANSMISSION-SIG": sig,
            "PAYPAL-CERT-URL": cert_url,
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
        }
        return headers, body

    def verify(self, app: str, body: dict[str, object]) -> str:
        """SUCCESS or FAILURE, as PayPal's ``verification_status``."""
        missing = [name for name in VERIFY_FIELDS if name not in body]
        if missing:
            raise PayPalError(
                "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", f"{missing[0]} is required.", f"/{missing[0]}"
            )
        sent = self.transmissions.get(str(body["transmission_id"]))
        webhook = self.webhooks.get(str(body["webhook_id"]))
        honest = (
            sent is not None
            and webhook is not None
            and webhook.app == app
            and sent.webhook_id == webhook.id
            and body["auth_algo"] == AUTH_ALGO
            and body["transmission_time"] == sent.time
            and body["cert_url"] == sent.cert_url
            and hmac.compare_digest(str(body["transmission_sig"]).encode(), sent.sig.encode())
            and body["webhook_event"] == sent.event
        )
        return "SUCCESS" if honest else "FAILURE"
