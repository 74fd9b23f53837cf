"""Cryptomus's merchant API: invoices, their info, and the signed webhook (IPN) to ``url_callback``.

Each API call carries the headers ``merchant`` (the merchant's uuid) and ``sign`` =
md5(base64(raw JSON body) + payment API key); answers are ``{"state": 0, "result": …}``.
The webhook's body holds its own ``sign`` = md5(base64(json_encode(body without sign,
JSON_UNESCAPED_UNICODE)) + payment API key): PHP's encoding, compact, with ``/`` written
``\\/`` (``smmpanel.gateways.crypto.php_json``). Statuses are Cryptomus's: ``check`` while waiting,
then ``paid``, ``paid_over``, ``wrong_amount``, ``cancel``, ``fail``, ``system_fail`` …
"""

from __future__ import annotations

import hmac
import html
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smmpanel.api.params import TransportError
from smmpanel.gateways.crypto import php_json, signature
from smmpanel.simulators.common import (
    JSON_TYPE,
    Delivery,
    Ids,
    Outbox,
    base_url,
    control_options,
    decimal_places,
    decimal_text,
    fixed,
    json_answer,
    json_object,
    optional_text,
    page,
    read_body,
)

FINAL_STATUSES = frozenset({"paid", "paid_over", "wrong_amount", "cancel", "fail", "system_fail", "refund_paid"})
STATUSES = FINAL_STATUSES | {"check", "process", "confirm_check", "wrong_amount_waiting", "refund_process"}
FIAT = frozenset({"USD", "EUR", "RUB", "GBP", "UAH", "KZT"})
PAYER_CURRENCY = "USDT"
"""The simulated payer always pays in USDT at 1 USDT = 1 unit of the invoice's currency."""
ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
LIFETIME = (300, 43_200, 3_600)
"""Shortest, longest and default invoice lifetime in seconds."""


class Invalid(Exception):
    """A request Cryptomus refuses: 401 for the signature, 422 with field errors, 404 for no invoice."""

    def __init__(self, status_code: int, answer: dict[str, object]) -> None:
        super().__init__(str(answer))
        self.status_code, self.answer = status_code, answer


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


@dataclass
class Invoice:
    uuid: str
    merchant: str
    order_id: str
    amount: Decimal
    currency: str
    url_callback: str | None
    url_return: str | None
    url_success: str | None
    additional_data: str | None
    created: float
    expires: float
    status: str = "check"
    paid: Decimal | None = None
    txid: str | None = None

    @property
    def places(self) -> int:
        return 2 if self.currency in FIAT else 8

    def expire(self, now: float) -> None:
        if self.status == "check" and now >= self.expires:
            self.status = "cancel"


@dataclass
class Cryptomus:
    merchants: Mapping[str, str]
    """merchant uuid → payment API key."""
    outbox: Outbox
    ids: Ids
    notify: bool
    invoices: dict[str, Invoice] = field(default_factory=dict)

    def caller(self, headers: Mapping[str, str], raw: bytes) -> str:
        merchant = headers.get("merchant", "")
        key = self.merchants.get(merchant)
        if key is None or not hmac.compare_digest(signature(raw, key), headers.get("sign", "")):
            raise Invalid(401, {"state": 1, "message": "Invalid Sign"})
        return merchant

    def create(self, merchant: str, body: dict[str, object], now: float) -> Invoice:
        errors: dict[str, list[str]] = {}
        amount = decimal_text(body.get("amount"))
        if amount is None or amount <= 0 or decimal_places(amount) > 8:
            errors["amount"] = ["validation.numeric"]
        currency = optional_text(body.get("currency")) or ""
        if not re.fullmatch(r"[A-Z]{3,5}", currency):
            errors["currency"] = ["validation.required"]
        elif amount is not None and currency in FIAT and decimal_places(amount) > 2:
            errors["amount"] = ["validation.decimal"]  # a fiat invoice is in whole cents
        order_id = optional_text(body.get("order_id")) or ""
        if not ORDER_ID.match(order_id):
            errors["order_id"] = ["validation.alpha_dash"]
        urls: dict[str, str | None] = {}
        for name in ("url_callback", "url_return", "url_success"):
            urls[name] = url = optional_text(body.get(name))
            if body.get(name) is not None and not (url and 6 <= len(url) <= 255 and url.startswith("http")):
                errors[name] = ["validation.url"]
        lifetime = body.get("lifetime", LIFETIME[2])
        if not isinstance(lifetime, int) or not LIFETIME[0] <= lifetime <= LIFETIME[1]:
            errors["lifetime"] = ["validation.between.numeric"]
        if errors or amount is None or not isinstance(lifetime, int):
            raise Invalid(422, {"state": 1, "errors": errors})
        for invoice in self.invoices.values():
            if invoice.merchant == merchant and invoice.order_id == order_id:
                return invoice  # Cryptomus answers an existing order_id with its invoice, creating none
        invoice = Invoice(
            uuid=self.ids.uuid(),
            merchant=merchant,
            order_id=order_id,
            amount=amount,
            currency=currency,
            url_callback=urls["url_callback"],
            url_return=urls["url_return"],
            url_success=urls["url_success"],
            additional_data=optional_text(body.get("additional_data")),
            created=now,
            expires=now + lifetime,
        )
        self.invoices[invoice.uuid] = invoice
        return invoice

    def find(self, merchant: str, body: Mapping[str, object], now: float) -> Invoice:
        for invoice in self.invoices.values():
            if invoice.merchant == merchant and (
                invoice.uuid == body.get("uuid") or ("uuid" not in body and invoice.order_id == body.get("order_id"))
            ):
                invoice.expire(now)
                return invoice
        raise Invalid(404, {"state": 1, "message": "Not found payment"})

    def pay(self, invoice: Invoice, paid: Decimal | None, status: str | None) -> None:
        """The payer sends ``paid`` (default: the invoice amount); the status follows unless given."""
        invoice.paid = invoice.amount if paid is None else paid
        if status is None:
            status = (
                "paid"
                if invoice.paid == invoice.amount
                else "paid_over"
                if invoice.paid > invoice.amount
                else "wrong_amount"
            )
        invoice.status = status
        invoice.txid = self.ids.token(64, "0123456789abcdef")

    def change(self, invoice: Invoice, fields: Mapping[str, object]) -> None:
        """Test control: the invoice now says another amount or currency."""
        if "amount" in fields:
            amount = decimal_text(fields["amount"])
            if amount is None or amount <= 0:
                raise ValueError("amount must be a positive decimal")
            invoice.amount = amount
        if "currency" in fields:
            invoice.currency = str(fields["currency"])

    def document(self, invoice: Invoice, base: str) -> dict[str, object]:
        paid = invoice.paid
        return {
            "uuid": invoice.uuid,
            "order_id": invoice.order_id,
            "amount": fixed(invoice.amount, invoice.places),
            "payment_amount": fixed(paid, 8) if paid is not None else None,
            "payer_amount": fixed(invoice.amount, 8),
            "discount_percent": None,
            "discount": "0.00000000",
            "payer_currency": PAYER_CURRENCY,
            "currency": invoice.currency,
            "merchant_amount": fixed(paid * Decimal("0.98"), 8) if paid is not None else None,
            "network": "tron",
            "address": "TXYZsimulatedAddressForCryptomusPay",
            "from": "TSimulatedPayerAddress0000000000001" if paid is not None else None,
            "txid": invoice.txid,
            "payment_status": invoice.status,
            "url": f"{base}/pay/{invoice.uuid}",
            "expired_at": int(invoice.expires),
            "status": invoice.status,
            "is_final": invoice.status in FINAL_STATUSES,
            "additional_data": invoice.additional_data,
            "created_at": _stamp(invoice.created),
            "updated_at": _stamp(time.time()),
        }

    def webhook(self, invoice: Invoice) -> Delivery | None:
        """The IPN for the invoice's current status, signed, recorded; None without ``url_callback``."""
        if invoice.url_callback is None:
            return None
        paid = invoice.paid if invoice.paid is not None else Decimal(0)
        commission = (paid * Decimal("0.02")).quantize(Decimal("0.00000001"))
        body: dict[str, object] = {
            "type": "payment",
            "uuid": invoice.uuid,
            "order_id": invoice.order_id,
            "amount": fixed(invoice.amount, 8),
            "payment_amount": fixed(paid, 8),
            "payment_amount_usd": fixed(paid, 2),
            "merchant_amount": fixed(paid - commission, 8),
            "commission": fixed(commission, 8),
            "is_final": invoice.status in FINAL_STATUSES,
            "status": invoice.status,
            "from": "TSimulatedPayerAddress0000000000001",
            "wallet_address_uuid": None,
            "network": "tron",
            "currency": invoice.currency,
            "payer_currency": PAYER_CURRENCY,
            "additional_data": invoice.additional_data,
            "txid": invoice.txid,
        }
        body["sign"] = signature(php_json(body), self.merchants[invoice.merchant])
        return self.outbox.record(
            "cryptomus", invoice.url_callback, {"Content-Type": JSON_TYPE}, php_json(body).encode()
        )


# HTTP


def _cryptomus(request: Request) -> Cryptomus:
    cryptomus: Cryptomus = request.app.state.cryptomus
    return cryptomus


def _base(request: Request) -> str:
    return f"{base_url(request)}/cryptomus"


async def _signed_call(request: Request) -> tuple[str, dict[str, object]]:
    try:
        raw = await read_body(request)
    except TransportError:
        raise Invalid(413, {"state": 1, "message": "Request too large"}) from None
    merchant = _cryptomus(request).caller(request.headers, raw)
    body = json_object(raw)
    if body is None:
        raise Invalid(422, {"state": 1, "message": "Body must be a JSON object"})
    return merchant, body


def _invoice_endpoint(
    action: Callable[[Cryptomus, str, dict[str, object], float], Invoice], doc: str
) -> Callable[[Request], Awaitable[Response]]:
    """A signed API call answering ``{"state": 0, "result": invoice}``, or Cryptomus's error."""

    async def endpoint(request: Request) -> Response:
        cryptomus = _cryptomus(request)
        try:
            merchant, body = await _signed_call(request)
            invoice = action(cryptomus, merchant, body, time.time())
        except Invalid as invalid:
            return json_answer(invalid.answer, invalid.status_code)
        return json_answer({"state": 0, "result": cryptomus.document(invoice, _base(request))})

    endpoint.__doc__ = doc
    return endpoint


create_invoice = _invoice_endpoint(
    Cryptomus.create, "``POST /v1/payment``: a new invoice, or the one for that ``order_id``."
)
invoice_info = _invoice_endpoint(
    Cryptomus.find, "``POST /v1/payment/info`` (``uuid`` or ``order_id``): Cryptomus's record."
)


async def pay_page(request: Request) -> Response:
    """The payer's page: ``GET`` shows the invoice, ``POST`` pays it in full and sends the webhook."""
    cryptomus = _cryptomus(request)
    invoice = cryptomus.invoices.get(request.path_params["uuid"])
    if invoice is None:
        return page("Cryptomus", "<p>Invoice not found.</p>", 404)
    invoice.expire(time.time())
    if invoice.status != "check":
        return page("Cryptomus", f"<p>This invoice is {html.escape(invoice.status)}.</p>", 409)
    if request.method == "GET":
        amount = f"{fixed(invoice.amount, invoice.places)} {html.escape(invoice.currency)}"
        return page(
            "Cryptomus invoice",
            f'<p>Send <strong id="amount">{amount}</strong> in {PAYER_CURRENCY} (TRC-20).</p>'
            '<form method="post"><button>I have paid</button></form>',
        )
    cryptomus.pay(invoice, None, None)
    delivery = cryptomus.webhook(invoice)
    if delivery is not None and cryptomus.notify:
        await cryptomus.outbox.send(delivery)
    if invoice.url_success is None:
        return page("Cryptomus", "<p>Paid. You may close this window.</p>")
    return RedirectResponse(invoice.url_success, 303)


async def pay_control(request: Request) -> Response:
    """``POST /_sim/cryptomus/invoices/{uuid}/pay``: ``{"payment_amount", "status", "send"}``, all optional.

    The payer pays ``payment_amount`` (default: in full) and the status follows (``paid``,
    ``paid_over``, ``wrong_amount``) unless ``status`` names another; the webhook is sent
    before the answer, which carries it, unless ``send`` is false.
    """
    cryptomus = _cryptomus(request)
    invoice = cryptomus.invoices.get(request.path_params["uuid"])
    if invoice is None:
        return json_answer({"error": "no such invoice"}, 404)
    options = await control_options(request)
    if isinstance(options, Response):
        return options
    paid = decimal_text(options["payment_amount"]) if "payment_amount" in options else None
    status = options.get("status")
    if ("payment_amount" in options and paid is None) or (status is not None and status not in STATUSES):
        return json_answer({"error": f"payment_amount is a decimal; status one of {sorted(STATUSES)}"}, 400)
    cryptomus.pay(invoice, paid, status if isinstance(status, str) else None)
    delivery = cryptomus.webhook(invoice)
    if delivery is not None and options.get("send", True):
        await cryptomus.outbox.send(delivery)
    return json_answer(
        {"invoice": cryptomus.document(invoice, _base(request)), "delivery": delivery and delivery.describe()}
    )


async def change_control(request: Request) -> Response:
    """``POST /_sim/cryptomus/invoices/{uuid}`` with ``amount`` and/or ``currency``."""
    cryptomus = _cryptomus(request)
    invoice = cryptomus.invoices.get(request.path_params["uuid"])
    if invoice is None:
        return json_answer({"error": "no such invoice"}, 404)
    fields = await control_options(request)
    if isinstance(fields, Response):
        return fields
    try:
        cryptomus.change(invoice, fields)
    except ValueError as error:
        return json_answer({"error": str(error)}, 400)
    return json_answer({"invoice": cryptomus.document(invoice, _base(request))})


routes = [
    Route("/cryptomus/v1/payment", create_invoice, methods=["POST"]),
    Route("/cryptomus/v1/payment/info", invoice_info, methods=["POST"]),
    Route("/cryptomus/pay/{uuid}", pay_page, methods=["GET", "POST"]),
]
control_routes = [
    Route("/_sim/cryptomus/invoices/{uuid}/pay", pay_control, methods=["POST"]),
    Route("/_sim/cryptomus/invoices/{uuid}", change_control, methods=["POST"]),
]
