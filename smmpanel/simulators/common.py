"""What the three simulated gateways share: reading bodies, answering, and sending callbacks.

Every state change of the simulator happens in plain synchronous code between two
``await`` points, so the event loop alone keeps it consistent: there is no lock to hold,
and none is held while a callback is on its way to the panel (whose handler may well
call the simulator back, as PayPal's verification and Cryptomus's payment info do).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import random
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from smmpanel.api.params import TransportError
from smmpanel.api.params import read_body as read_limited
from smmpanel.gateways.wire import tls_context

log = logging.getLogger("smmpanel.simulators")

MAX_BODY_BYTES = 65_536
"""No gateway request the panel sends comes near this; anything bigger is refused unread."""
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


async def read_body(request: Request) -> bytes:
    """The raw body; TransportError (413) as soon as it is known to exceed ``MAX_BODY_BYTES``."""
    return await read_limited(request, MAX_BODY_BYTES)


def json_object(raw: bytes) -> dict[str, object] | None:
    """A JSON object kept in the order its keys were written (signatures depend on it), or None."""
    try:
        document = json.loads(raw or b"{}")
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


async def control_options(request: Request) -> dict[str, object] | Response:
    """The JSON object a ``/_sim/`` control was sent, or the answer refusing what it was sent."""
    try:
        options = json_object(await read_body(request))
    except TransportError:
        return json_answer({"error": "request too large"}, 413)
    return options if options is not None else json_answer({"error": "send a JSON object"}, 400)


def form_fields(raw: bytes) -> dict[str, str] | None:
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except (UnicodeDecodeError, ValueError):
        return None


def json_answer(content: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type=JSON_TYPE)


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    """A bare checkout page; ``body`` is HTML the caller escaped."""
    document = (
        "<!DOCTYPE html>\n<html><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title></head>\n<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )
    return HTMLResponse(document, status_code=status_code)


def hidden_fields(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in fields.items()
    )


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` added to whatever query it already has."""
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode(params)) if part)
    return urlunsplit(parts._replace(query=query))


def decimal_text(text: object) -> Decimal | None:
    """An amount as a gateway reads it: plain digits with an optional fraction, nothing else."""
    if not isinstance(text, str) or not text or len(text) > 32:
        return None
    whole, _, fraction = text.partition(".")
    if not whole.isdigit() or not whole.isascii() or (fraction and not (fraction.isdigit() and fraction.isascii())):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the checks above leave only valid decimals
        return None


def decimal_places(value: Decimal) -> int:
    """How many digits ``value`` was written with after the point."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def optional_text(value: object) -> str | None:
    """A non-empty string from a JSON body, or None for anything else."""
    return value if isinstance(value, str) and value else None


def fixed(value: Decimal, places: int) -> str:
    """``value`` with exactly ``places`` decimals, as the gateways write amounts."""
    return f"{value:.{places}f}"


def base_url(request: Request) -> str:
    """Where this simulator is reachable, mount path included (``root_path``: Starlette's
    ``base_url`` is the outermost app's), without a trailing slash."""
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


class Ids:
    """Gateway-looking identifiers; reproducible with a seed."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed)

    def token(self, length: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def uuid(self) -> str:
        text = self.token(32, "0123456789abcdef")
        return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"

    def number(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)


@dataclass
class Delivery:
    """One callback the gateway sends (or would send) to the merchant, and what came back."""

    id: int
    gateway: str
    url: str
    headers: dict[str, str]
    body: bytes
    forged: bool = False
    """Altered by a test after the gateway signed it: no gateway ever sent this."""
    attempts: int = 0
    status_code: int | None = None
    answer: str = ""
    error: str | None = None

    def describe(self) -> dict[str, object]:
        return {
            "id": self.id,
            "gateway": self.gateway,
            "url": self.url,
            "headers": self.headers,
            "body": self.body.decode("utf-8", "replace"),
            "forged": self.forged,
            "attempts": self.attempts,
            "status_code": self.status_code,
            "answer": self.answer[:2000],
            "error": self.error,
        }


@dataclass
class Outbox:
    """Every callback, kept so that a test can inspect it, send it again, or send a forged copy."""

    timeout: float
    deliveries: dict[int, Delivery] = field(default_factory=dict)
    _running: set[asyncio.Task[dict[str, object]]] = field(default_factory=set)

    def record(self, gateway: str, url: str, headers: dict[str, str], body: bytes) -> Delivery:
        delivery = Delivery(len(self.deliveries) + 1, gateway, url, headers, body)
        self.deliveries[delivery.id] = delivery
        return delivery

    def forge(self, original: Delivery, headers: dict[str, str], body: bytes) -> Delivery:
        """A copy with other headers or body, marked as forged; the original stays as it was."""
        copy = replace(original, id=len(self.deliveries) + 1, headers=headers, body=body, forged=True, attempts=0)
        copy.status_code, copy.answer, copy.error = None, "", None
        self.deliveries[copy.id] = copy
        return copy

    async def send(self, delivery: Delivery) -> dict[str, object]:
        """POST it once; the merchant's answer (or why there was none) is kept on it and returned."""
        delivery.attempts += 1
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=tls_context()) as client:
                response = await client.post(delivery.url, headers=delivery.headers, content=delivery.body)
        except httpx.HTTPError as error:
            delivery.status_code, delivery.answer, delivery.error = None, "", f"{type(error).__name__}: {error}"
            log.info("callback %s to %s failed: %s", delivery.id, delivery.url, delivery.error)
        else:
            delivery.status_code, delivery.answer, delivery.error = response.status_code, response.text, None
        return {"status_code": delivery.status_code, "answer": delivery.answer[:2000], "error": delivery.error}

    def send_soon(self, delivery: Delivery) -> None:
        """Send in the background, as a gateway does after answering its own caller."""
        task = asyncio.create_task(self.send(delivery))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
