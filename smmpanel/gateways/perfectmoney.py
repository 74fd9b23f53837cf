"""Perfect Money: the SCI payment form, confirmed by the status post and its ``V2_HASH``.

``start`` makes no call: it gives the customer's browser the form to post to Perfect Money's
``/api/step1.asp``. Nothing in that form is signed, so a customer can change its amount,
currency or payee before it leaves the browser; what counts is the status post Perfect Money
sends to ``STATUS_URL`` (this gateway's webhook) once the money moved. ``verify`` recomputes
its ``V2_HASH`` with the alternate passphrase and hands the use case the payee account,
amount and units exactly as signed, which it compares with the payment. Perfect Money's
payments are final the moment they are made, so a genuine status post is final.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

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
)
from smmpanel.gateways.wire import decimal_text, parse_decimal
from smmpanel.money import AmountError

ACCOUNT_UNITS = {"U": "USD", "E": "EUR"}
"""A Perfect Money account's first letter says the one currency it holds."""
SIGNED = ("PAYMENT_ID", "PAYEE_ACCOUNT", "PAYMENT_AMOUNT", "PAYMENT_UNITS", "PAYMENT_BATCH_NUM", "PAYER_ACCOUNT")


def v2_hash(fields: Mapping[str, str], alternate_passphrase: str) -> str:
    """upper(md5(PAYMENT_ID:PAYEE_ACCOUNT:PAYMENT_AMOUNT:PAYMENT_UNITS:PAYMENT_BATCH_NUM:PAYER_ACCOUNT:
    upper(md5(alternate passphrase)):TIMESTAMPGMT)); a payment without PAYMENT_ID hashes ``NULL`` for it."""
    secret = hashlib.md5(alternate_passphrase.encode()).hexdigest().upper()
    parts = [fields.get(name, "") for name in SIGNED]
    parts[0] = parts[0] or "NULL"
    parts += [secret, fields.get("TIMESTAMPGMT", "")]
    return hashlib.md5(":".join(parts).encode()).hexdigest().upper()


class PerfectMoneyGateway(Gateway):
    kind = "perfectmoney"
    title = "Perfect Money"
    minor_unit = CENT
    verifies_returns = True
    options = (
        Option("payee_account", "the account paid into, e.g. U1234567 (USD) or E1234567 (EUR)"),
        Option("alternate_passphrase", "alternate passphrase (Settings → Security at Perfect Money)", secret=True),
        Option("payee_name", "name the payer sees on Perfect Money's page", default=""),
        Option("api_base", "Perfect Money's base URL", default="https://perfectmoney.com"),
    )

    @property
    def payee(self) -> str | None:
        return self.option("payee_account")

    async def start(self, request: PaymentRequest) -> Started:
        units = ACCOUNT_UNITS.get(self.option("payee_account")[:1])
        if units != request.currency:
            raise Refused("This Perfect Money account cannot take payments in %(currency)s", currency=request.currency)
        fields = {
            "PAYEE_ACCOUNT": self.option("payee_account"),
            "PAYEE_NAME": self.option("payee_name") or self.setup.name,
            "PAYMENT_ID": str(request.payment_id),
            "PAYMENT_AMOUNT": decimal_text(request.amount, 2),
            "PAYMENT_UNITS": request.currency,
            "STATUS_URL": request.webhook_url,
            "PAYMENT_URL": request.return_url,
            "PAYMENT_URL_METHOD": "GET",
            "NOPAYMENT_URL": request.return_url,
            "NOPAYMENT_URL_METHOD": "GET",
            "SUGGESTED_MEMO": request.description,
            "SUGGESTED_MEMO_NOCHANGE": "1",
            "BAGGAGE_FIELDS": "",
        }
        action = self.option("api_base").rstrip("/") + "/api/step1.asp"
        return Started(reference=fields["PAYMENT_ID"], redirect_url=action, form_fields=fields)

    async def verify(self, incoming: Incoming) -> Confirmation:
        """The status post (a form), or the payer's return to PAYMENT_URL, which carries the same fields."""
        fields = dict(incoming.form if incoming.source == "webhook" else incoming.query)
        given = fields.get("V2_HASH", "")
        if not given and incoming.source == "return":
            raise Ignored("the payer came back from Perfect Money without paying (NOPAYMENT_URL)")
        if not given:
            raise ConfirmationRefused("no V2_HASH: not a Perfect Money status post")
        if not hmac.compare_digest(v2_hash(fields, self.option("alternate_passphrase")), given.upper()):
            raise ConfirmationRefused("V2_HASH does not match this account's alternate passphrase")
        reference = fields.get("PAYMENT_ID", "")
        if not reference:
            raise ConfirmationRefused("the status post names no PAYMENT_ID")
        try:
            amount = parse_decimal(fields.get("PAYMENT_AMOUNT"))
        except AmountError as error:
            raise ConfirmationRefused(f"PAYMENT_AMOUNT is unusable: {error}") from None
        return Confirmation(
            reference=reference,
            amount=amount,
            currency=fields.get("PAYMENT_UNITS", "").upper(),
            final=True,
            raw=fields,
            payee=fields.get("PAYEE_ACCOUNT"),
        )
