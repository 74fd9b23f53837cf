"""Cryptomus: an invoice per payment, confirmed by Cryptomus's signed webhook and its own record.

``start`` creates the invoice (``POST /v1/payment``, signed with the ``merchant`` and ``sign``
headers) for the amount in whole cents, as Cryptomus takes fiat amounts, and sends the customer
to its page. Cryptomus then posts the invoice's status to the
panel's webhook; ``verify`` checks the body's ``sign`` against the payment API key, then reads
the invoice back (``POST /v1/payment/info``) and believes only that record. ``paid`` and
``paid_over`` settle the invoice's own amount (an overpayment stays at Cryptomus for the
operator); ``wrong_amount`` (paid too little), ``cancel``, ``fail`` and ``system_fail`` are
failures that credit nothing; anything else is not final yet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
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
from smmpanel.gateways.wire import call, decimal_text, parse_decimal
from smmpanel.money import AmountError

SETTLED = frozenset({"paid", "paid_over"})
FAILED = frozenset({"wrong_amount", "cancel", "fail", "system_fail"})
REFUNDS = frozenset({"refund_process", "refund_fail", "refund_paid"})
INVOICE_LIFETIME = 43_200
"""Seconds an invoice stays payable: Cryptomus's longest, since a chain may take a while."""


def php_json(document: Mapping[str, object]) -> str:
    """PHP's ``json_encode($data, JSON_UNESCAPED_UNICODE)``, which Cryptomus signs: compact, with
    ``/`` written ``\\/`` and U+2028/U+2029 escaped, other characters left as they are."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("/", "\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def signature(text: str | bytes, api_key: str) -> str:
    """md5(base64(text) + API key): Cryptomus's signature of a request body and of a webhook."""
    raw = text.encode() if isinstance(text, str) else text
    return hashlib.md5(base64.b64encode(raw) + api_key.encode()).hexdigest()


class CryptomusGateway(Gateway):
    kind = "cryptomus"
    title = "Cryptomus (crypto)"
    minor_unit = CENT
    options = (
        Option("merchant_id", "merchant uuid (Cryptomus → Business → Merchant settings)"),
        Option("api_key", "payment API key of that merchant", secret=True),
        Option("api_base", "API base URL", default="https://api.cryptomus.com"),
    )

    async def _api(self, path: str, body: dict[str, object]) -> dict[str, Any]:
        raw = json.dumps(body, separators=(",", ":")).encode()
        answer = await call(
            "Cryptomus",
            "POST",
            self.option("api_base").rstrip("/") + path,
            timeout=self.setup.http_timeout,
            content=raw,
            headers={
                "merchant": self.option("merchant_id"),
                "sign": signature(raw, self.option("api_key")),
                "Content-Type": "application/json",
            },
        )
        document = answer.json("Cryptomus")
        if answer.status_code == 401:
            raise Unavailable("Cryptomus refused this merchant id or API key")
        if answer.status_code >= 500:
            raise Unavailable(f"Cryptomus answered HTTP {answer.status_code}")
        return document

    async def start(self, request: PaymentRequest) -> Started:
        document = await self._api(
            "/v1/payment",
            {
                "amount": decimal_text(request.amount, 2),
                "currency": request.currency,
                "order_id": f"smmpanel-{self.setup.name}-{request.payment_id}",
                "url_callback": request.webhook_url,
                "url_return": request.return_url,
                "url_success": request.return_url,
                "lifetime": INVOICE_LIFETIME,
                "additional_data": request.description,
            },
        )
        invoice = document.get("result")
        if document.get("state") != 0 or not isinstance(invoice, dict):
            raise Refused(
                "Cryptomus refused the invoice: %(reason)s", reason=document.get("message") or document.get("errors")
            )
        uuid, url = invoice.get("uuid"), invoice.get("url")
        if not isinstance(uuid, str) or not isinstance(url, str):
            raise Unavailable("Cryptomus's invoice has no uuid or url")
        return Started(reference=uuid, redirect_url=url)

    async def verify(self, incoming: Incoming) -> Confirmation:
        if incoming.source != "webhook":
            raise Ignored("Cryptomus confirms by webhook: the customer's return says nothing")
        try:
            body = json.loads(incoming.body)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("sign"), str):
            raise ConfirmationRefused("not a Cryptomus webhook: no JSON body with a sign")
        sign = body.pop("sign")
        if not hmac.compare_digest(signature(php_json(body), self.option("api_key")), sign):
            raise ConfirmationRefused("the webhook's sign does not match this merchant's API key")
        uuid = body.get("uuid")
        if not isinstance(uuid, str) or not uuid:
            raise ConfirmationRefused("the webhook names no invoice uuid")
        confirmation = await self.fetch(uuid)
        if confirmation is None:
            raise ConfirmationRefused(f"Cryptomus has no invoice {uuid} for this merchant")
        return confirmation

    async def fetch(self, reference: str) -> Confirmation | None:
        """Cryptomus's own record of the invoice; None when this merchant has no such invoice."""
        document = await self._api("/v1/payment/info", {"uuid": reference})
        invoice = document.get("result")
        if document.get("state") != 0 or not isinstance(invoice, dict):
            return None
        status = invoice.get("status") or invoice.get("payment_status")
        if status in REFUNDS:
            raise Ignored(f"invoice {reference} is in refund ({status}): an operator's matter")
        try:
            amount = parse_decimal(invoice.get("amount"))
        except AmountError as error:
            raise ConfirmationRefused(f"Cryptomus's invoice amount is unusable: {error}") from None
        return Confirmation(
            reference=str(invoice.get("uuid")),
            amount=amount,
            currency=str(invoice.get("currency", "")).upper(),
            final=status in SETTLED,
            raw=invoice,
            failed=status in FAILED,
        )
