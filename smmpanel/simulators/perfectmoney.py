"""Perfect Money's SCI: the payment form's target, the payer's page, and the signed status post.

The merchant's page posts a form (PAYEE_ACCOUNT, PAYEE_NAME, PAYMENT_ID, PAYMENT_AMOUNT,
PAYMENT_UNITS, STATUS_URL, PAYMENT_URL, NOPAYMENT_URL, their ``_METHOD``s, BAGGAGE_FIELDS …)
to ``/api/step1.asp``. Nothing in that form is signed: a payer can change any field before
it leaves their browser, so a merchant must check what comes back. When the payer pays,
Perfect Money posts PAYMENT_ID, PAYEE_ACCOUNT, PAYMENT_AMOUNT, PAYMENT_UNITS,
PAYMENT_BATCH_NUM, PAYER_ACCOUNT, TIMESTAMPGMT, V2_HASH and the baggage fields to
STATUS_URL, then sends the payer to PAYMENT_URL with the same fields.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smmpanel.api.params import TransportError
from smmpanel.gateways.perfectmoney import ACCOUNT_UNITS, v2_hash
from smmpanel.simulators.common import (
    FORM_TYPE,
    Delivery,
    Ids,
    Outbox,
    base_url,
    control_options,
    decimal_places,
    decimal_text,
    fixed,
    form_fields,
    hidden_fields,
    json_answer,
    page,
    read_body,
    with_query,
)

DEFAULT_PAYER = "U1000001"


class FormRefused(Exception):
    """Perfect Money shows the payer an error page instead of the payment page."""


@dataclass
class Checkout:
    id: str
    form: dict[str, str]
    amount: str
    """PAYMENT_AMOUNT as Perfect Money writes it back: two decimals."""
    state: str = "open"
    batch: int | None = None


@dataclass
class PerfectMoney:
    accounts: Mapping[str, str]
    """payee account (``U1234567``) → its alternate passphrase."""
    outbox: Outbox
    ids: Ids
    notify: bool
    checkouts: dict[str, Checkout] = field(default_factory=dict)
    next_batch: int = 0

    def open(self, form: dict[str, str]) -> Checkout:
        payee = form.get("PAYEE_ACCOUNT", "")
        if payee not in self.accounts:
            raise FormRefused("Invalid PAYEE_ACCOUNT")
        if ACCOUNT_UNITS.get(payee[:1]) != form.get("PAYMENT_UNITS"):
            raise FormRefused("Invalid PAYMENT_UNITS for this PAYEE_ACCOUNT")
        amount = decimal_text(form.get("PAYMENT_AMOUNT"))
        if amount is None or amount <= 0 or decimal_places(amount) > 2:
            raise FormRefused("Invalid PAYMENT_AMOUNT")
        for name in ("PAYMENT_URL", "NOPAYMENT_URL"):
            if not form.get(name, "").startswith(("http://", "https://")):
                raise FormRefused(f"Invalid {name}")
        if len(form.get("PAYMENT_ID", "")) > 50:
            raise FormRefused("Invalid PAYMENT_ID")
        checkout = Checkout(self.ids.token(20), dict(form), fixed(amount, 2))
        self.checkouts[checkout.id] = checkout
        return checkout

    def pay(self, checkout: Checkout, payer: str) -> dict[str, str]:
        """Move the money; the fields of the status post, signed, come back."""
        if self.next_batch == 0:
            self.next_batch = self.ids.number(100_000_000, 800_000_000)
        self.next_batch += 1
        checkout.state, checkout.batch = "paid", self.next_batch
        form = checkout.form
        fields = {
            "PAYEE_ACCOUNT": form["PAYEE_ACCOUNT"],
            "PAYMENT_AMOUNT": checkout.amount,
            "PAYMENT_UNITS": form["PAYMENT_UNITS"],
            "PAYMENT_BATCH_NUM": str(checkout.batch),
            "PAYER_ACCOUNT": payer,
            "TIMESTAMPGMT": str(int(time.time())),
        }
        if form.get("PAYMENT_ID"):
            fields = {"PAYMENT_ID": form["PAYMENT_ID"], **fields}
        fields["V2_HASH"] = v2_hash(fields, self.accounts[form["PAYEE_ACCOUNT"]])
        for name in form.get("BAGGAGE_FIELDS", "").split():
            if name in form and name not in fields:
                fields[name] = form[name]
        return fields

    def status_post(self, checkout: Checkout, fields: dict[str, str]) -> Delivery | None:
        url = checkout.form.get("STATUS_URL", "")
        if not url.startswith(("http://", "https://")):
            return None  # no STATUS_URL (or a mailto: one): Perfect Money posts nothing
        return self.outbox.record("perfectmoney", url, {"Content-Type": FORM_TYPE}, urlencode(fields).encode())


def _perfectmoney(request: Request) -> PerfectMoney:
    perfectmoney: PerfectMoney = request.app.state.perfectmoney
    return perfectmoney


async def step1(request: Request) -> Response:
    """``POST /api/step1.asp``: the merchant's form arrives; the payer goes on to the payment page."""
    try:
        form = form_fields(await read_body(request))
    except TransportError:
        return page("Perfect Money", "<p>Request too large.</p>", 413)
    if form is None:
        return page("Perfect Money", "<p>Unreadable form.</p>", 400)
    try:
        checkout = _perfectmoney(request).open(form)
    except FormRefused as refused:
        return page("Perfect Money: error", f'<p id="error">{html.escape(str(refused))}</p>', 400)
    return RedirectResponse(f"{base_url(request)}/perfectmoney/checkout/{checkout.id}", 303)


def _back(url: str, method: str, fields: dict[str, str]) -> Response:
    """Send the payer to ``url`` as PAYMENT_URL_METHOD / NOPAYMENT_URL_METHOD ask (POST, else GET)."""
    if method.upper() == "POST":
        return page(
            "Perfect Money",
            f'<form method="post" action="{html.escape(url)}">{hidden_fields(fields)}'
            "<button>Return to the merchant</button></form><script>document.forms[0].submit()</script>",
        )
    return RedirectResponse(with_query(url, fields), 303)


async def checkout_page(request: Request) -> Response:
    """The payer's page: ``GET`` shows the payment, ``POST action=pay|cancel`` settles it."""
    perfectmoney = _perfectmoney(request)
    checkout = perfectmoney.checkouts.get(request.path_params["checkout_id"])
    if checkout is None:
        return page("Perfect Money", "<p>No such payment.</p>", 404)
    if checkout.state != "open":
        return page("Perfect Money", f"<p>This payment is already {checkout.state}.</p>", 409)
    form = checkout.form
    if request.method == "GET":
        payee = html.escape(f"{form.get('PAYEE_NAME', '')} ({form['PAYEE_ACCOUNT']})")
        return page(
            "Perfect Money payment",
            f'<p>Pay <strong id="amount">{checkout.amount} {html.escape(form["PAYMENT_UNITS"])}</strong>'
            f" to {payee}.</p>"
            f'<form method="post"><label>Your account <input name="PAYER_ACCOUNT" value="{DEFAULT_PAYER}"></label>'
            '<button name="action" value="pay">Make payment</button> '
            '<button name="action" value="cancel">Cancel</button></form>',
        )
    try:
        answer = form_fields(await read_body(request)) or {}
    except TransportError:
        return page("Perfect Money", "<p>Request too large.</p>", 413)
    if answer.get("action") != "pay":
        checkout.state = "cancelled"
        back = {"PAYMENT_ID": form["PAYMENT_ID"]} if form.get("PAYMENT_ID") else {}
        return _back(form["NOPAYMENT_URL"], form.get("NOPAYMENT_URL_METHOD", "GET"), back)
    fields = perfectmoney.pay(checkout, answer.get("PAYER_ACCOUNT") or DEFAULT_PAYER)
    delivery = perfectmoney.status_post(checkout, fields)
    if delivery is not None and perfectmoney.notify:
        await perfectmoney.outbox.send(delivery)  # the status post goes first, then the payer is sent back
    return _back(form["PAYMENT_URL"], form.get("PAYMENT_URL_METHOD", "GET"), fields)


async def pay_control(request: Request) -> Response:
    """``POST /_sim/perfectmoney/checkouts/{id}/pay`` (``{"payer_account": …}``): pay without a browser.

    The status post is sent before the answer, which carries it (``delivery``); with
    ``{"send": false}`` it is only recorded, for the test to send when it chooses.
    """
    perfectmoney = _perfectmoney(request)
    checkout = perfectmoney.checkouts.get(request.path_params["checkout_id"])
    if checkout is None:
        return json_answer({"error": "no such checkout"}, 404)
    options = await control_options(request)
    if isinstance(options, Response):
        return options
    if checkout.state != "open":
        return json_answer({"error": f"checkout is {checkout.state}"}, 409)
    fields = perfectmoney.pay(checkout, str(options.get("payer_account") or DEFAULT_PAYER))
    delivery = perfectmoney.status_post(checkout, fields)
    if delivery is not None and options.get("send", True):
        await perfectmoney.outbox.send(delivery)
    return json_answer({"fields": fields, "delivery": delivery.describe() if delivery else None})


routes = [
    Route("/perfectmoney/api/step1.asp", step1, methods=["POST"]),
    Route("/perfectmoney/checkout/{checkout_id}", checkout_page, methods=["GET", "POST"]),
]
control_routes = [Route("/_sim/perfectmoney/checkouts/{checkout_id}/pay", pay_control, methods=["POST"])]
