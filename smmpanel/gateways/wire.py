"""What the HTTP gateway adapters share: decimal amounts both ways, exactly, and one guarded call.

Gateways write amounts as decimal strings (PayPal's ``"10.00"``, Perfect Money's ``12.50``,
Cryptomus's ``"15.50000000"``); the panel counts ``Units`` of 1/100,000. Both directions are
exact or refused: an amount is never rounded on its way to a gateway, and a gateway's figure
that the panel cannot hold to the last unit is not believed.
"""

from __future__ import annotations

import json
import re
import ssl
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import httpx

from smmpanel.errors import Refused
from smmpanel.gateways.base import Unavailable
from smmpanel.money import DIGITS, SCALE, AmountError, Units, format_amount

_DECIMAL = re.compile(r"^(\d{1,13})(?:\.(\d{1,18}))?$", re.ASCII)
MAX_ANSWER_BYTES = 1_048_576
"""A gateway's answer bigger than this is not read: no answer of theirs comes near it."""


def decimal_text(amount: Units, places: int) -> str:
    """``amount`` written with exactly ``places`` decimals; Refused when that would round it."""
    step = SCALE // 10**places
    if amount <= 0 or amount % step:
        unit = "a whole amount" if places == 0 else f"a whole number of {Decimal(1).scaleb(-places)}"
        raise Refused(
            "%(amount)s cannot be paid here: the amount must be %(unit)s", amount=format_amount(amount), unit=unit
        )
    whole, fraction = divmod(amount // step, 10**places)
    return f"{whole}.{fraction:0{places}d}" if places else str(whole)


def parse_decimal(text: object) -> Units:
    """A gateway's decimal string as exact units: AmountError for anything else, or for digits
    beyond the fifth decimal that are not zeros (the panel would have to round them)."""
    match = _DECIMAL.match(text) if isinstance(text, str) else None
    if match is None:
        raise AmountError(f"invalid amount {text!r}")
    fraction = match[2] or ""
    if fraction[DIGITS:].strip("0"):
        raise AmountError(f"{text!r} has more than {DIGITS} decimals")
    return int(match[1]) * SCALE + int(fraction[:DIGITS].ljust(DIGITS, "0"))


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: bytes

    def json(self, gateway: str) -> dict[str, Any]:
        """The answer's JSON object; Unavailable when the gateway sent something else (an error page)."""
        try:
            document = json.loads(self.body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise Unavailable(f"{gateway} answered HTTP {self.status_code} without a JSON object")
        return document


@cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: building one loads the CA bundle, some 90 ms of
    CPU, which a client per call would otherwise pay each time."""
    return httpx.create_ssl_context()


async def call(gateway: str, method: str, url: str, *, timeout: float, **options: Any) -> Answer:
    """One HTTP request to a gateway, its answer read up to ``MAX_ANSWER_BYTES``; Unavailable if it
    cannot be made, or the answer is bigger."""
    body = bytearray()
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, verify=tls_context()) as client,
            client.stream(method, url, **options) as response,
        ):
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise Unavailable(f"{gateway} answered with more than {MAX_ANSWER_BYTES} bytes")
    except httpx.HTTPError as error:
        raise Unavailable(f"{gateway} could not be reached: {type(error).__name__}") from None
    return Answer(response.status_code, bytes(body))
