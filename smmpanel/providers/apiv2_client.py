"""An async client for an upstream provider: another panel speaking API v2.

Forwarding is money: after a failed call the engine must know whether the provider
may have acted. So every failure is one of three kinds: the provider said no
(``UpstreamRefused``), the request never left (``UpstreamUnreachable``, safe to
retry), or anything else (``UpstreamAmbiguous``, reconcile before retrying).

Every exchange has one overall deadline (connect, send and the whole answer: httpx's
own timeouts are per read, so a provider trickling a byte a second would never time
out), and an answer is read as a stream up to a size limit and refused past it, so a
provider can neither hold the engine nor fill its memory.

Real panels are loose about JSON types, so answers are read tolerantly: numbers as
strings or numbers, extra fields ignored, status names in any case. Numbers are
decoded as their exact text, so an amount never passes through a float. The API key
is never put into an exception, a repr or a log line.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeVar
from urllib.parse import urlencode

import httpx

from smmpanel.domain.orders import OrderStatus
from smmpanel.domain.refills import RefillStatus
from smmpanel.errors import SmmPanelError
from smmpanel.money import AmountError, Units, parse_amount_rounded
from smmpanel.providers.transport import KeptAliveTransport

MAX_IDS = 100
"""API v2 takes at most this many ids in one ``orders`` or ``refills`` list."""

ANSWER_LIMIT = 262_144
"""Bytes of an answer read before it is refused: the status of 100 orders takes a few KB."""
CATALOG_LIMIT = 16_777_216
"""Bytes of a ``services`` answer read before it is refused: a large catalog takes a few MB."""

_REASON_LENGTH = 300
_ERROR_PAGE_LIMIT = 4096
"""Bytes read of a failed (non-2xx) answer: enough for the snippet shown to the operator."""
_SNIPPET_LENGTH = 120
_SHOWN_VALUE_LENGTH = 40
_WHOLE = re.compile(r"^[+-]?[0-9]{1,18}(?:\.0*)?$")
_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"0", "false", "no", ""})
_CREATED_KEYS = ("order", "refill")
"""An answer naming a created order or refill is never read as a refusal, even beside an ``error``."""

T = TypeVar("T")


class UpstreamError(SmmPanelError):
    """A call to an upstream provider did not give a usable answer."""


class UpstreamRefused(UpstreamError):
    """The provider answered ``{"error": ...}``: a definite no, nothing was created."""

    @property
    def message(self) -> str:
        return str(self.args[0])


class UpstreamUnreachable(UpstreamError):
    """The request certainly never reached the provider; retrying cannot double anything."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


class UpstreamAmbiguous(UpstreamError):
    """The provider may have acted but its answer is unknown or unreadable: reconcile, don't resend."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class UpstreamService:
    id: int
    name: str
    type: str
    category: str
    rate: Units
    """Per 1000, rounded up to five decimals: what we pay is never understated."""
    min: int
    max: int
    refill: bool
    cancel: bool
    description: str


@dataclass(frozen=True)
class UpstreamOrderStatus:
    status: OrderStatus
    charge: Units | None
    start_count: int | None
    remains: int | None
    currency: str | None


class _Malformed(Exception):
    """An answer that is JSON but not the shape the action promises."""


class _Refusal(Exception):
    """An ``{"error": ...}`` found inside an answer; raised as ``UpstreamRefused`` once redacted."""


class ApiV2Client:
    """One provider, one key; ``url`` is the provider's full API v2 address.

    Pass ``client`` to share one connection pool among providers (an httpx client, or the
    engine's lean ``KeptAliveTransport``); it is then the caller's to close. ``timeout`` is
    the deadline of a whole exchange, ``connect_timeout`` that of connecting; ``answer_limit``
    and ``catalog_limit`` cap the bytes read of an answer (of ``services`` for the latter).
    They apply to every call either way.
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        client: httpx.AsyncClient | KeptAliveTransport | None = None,
        answer_limit: int = ANSWER_LIMIT,
        catalog_limit: int = CATALOG_LIMIT,
    ) -> None:
        self._url = url
        self._parsed: httpx.URL | None = None
        """``url`` parsed, on the first call through a ``KeptAliveTransport``."""
        self._key = key
        self._deadline = timeout
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._answer_limit = answer_limit
        self._catalog_limit = catalog_limit
        self._owns_client = client is None
        self._client: httpx.AsyncClient | KeptAliveTransport = (
            client if client is not None else httpx.AsyncClient(headers={"User-Agent": "smmpanel"})
        )

    def __repr__(self) -> str:
        return f"ApiV2Client(url={self._redact(self._url)!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool, unless it was lent to us."""
        if self._owns_client:
            await self._client.aclose()

    # --- actions -------------------------------------------------------------------------

    async def services(self) -> list[UpstreamService]:
        return await self._call("services", {}, _read_services)

    async def balance(self) -> tuple[Units, str]:
        """The provider's balance (rounded half-up to five decimals) and its currency ("" if not said)."""
        return await self._call("balance", {}, _read_balance)

    async def add(self, params: Mapping[str, str]) -> int:
        """Place an order; ``params`` (service, link, quantity, runs, comments …) are sent as given."""
        if "key" in params or "action" in params:
            raise ValueError("params must not set key or action")
        return await self._call("add", params, _read_order_id)

    async def statuses(self, order_ids: Sequence[int]) -> dict[int, UpstreamOrderStatus | str]:
        """Each order's status, or the provider's error text for it; ids it does not mention are absent."""
        ids = _id_list(order_ids)
        if not ids:
            return {}
        return await self._call("status", {"orders": _joined(ids)}, lambda answer: _read_statuses(answer, ids))

    async def refill(self, order_id: int) -> int:
        """Ask for a refill of one order; the provider's refill id."""
        (number,) = _id_list([order_id])
        return await self._call("refill", {"order": str(number)}, _read_refill_id)

    async def refill_statuses(self, refill_ids: Sequence[int]) -> dict[int, RefillStatus | str]:
        """Each refill's status, or the provider's error text for it; ids it does not mention are absent."""
        ids = _id_list(refill_ids)
        if not ids:
            return {}
        return await self._call(
            "refill_status", {"refills": _joined(ids)}, lambda answer: _read_refill_statuses(answer, ids)
        )

    async def cancel(self, order_ids: Sequence[int]) -> dict[int, str | None]:
        """Ask to cancel orders: None where the provider accepted, its error text where not."""
        ids = _id_list(order_ids)
        if not ids:
            return {}
        return await self._call("cancel", {"orders": _joined(ids)}, lambda answer: _read_cancels(answer, ids))

    # --- transport -----------------------------------------------------------------------

    async def _call(self, action: str, params: Mapping[str, str], read: Callable[[object], T]) -> T:
        form = {**params, "key": self._key, "action": action}
        exchange = _Exchange(self._catalog_limit if action == "services" else self._answer_limit)
        try:
            async with asyncio.timeout(self._deadline):
                if isinstance(self._client, KeptAliveTransport):
                    status, kind, body = await exchange.post(self._client, self._url_parsed(), form, self._timeout)
                else:
                    status, kind, body = await exchange.run(self._client, self._url, form, self._timeout)
        except TimeoutError:
            if exchange.sent:
                raise UpstreamAmbiguous(self._reason(action, "no answer in time after the request was sent")) from None
            raise UpstreamUnreachable(self._reason(action, "could not connect in time")) from None
        except _TooLarge as error:
            raise UpstreamAmbiguous(self._reason(action, str(error))) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol) as error:
            # Raised before a byte of the request was written: the provider saw nothing.
            raise UpstreamUnreachable(self._reason(action, _unsent(error))) from None
        except httpx.InvalidURL:
            raise UpstreamUnreachable(self._reason(action, "not a valid address")) from None
        except httpx.HTTPError as error:
            raise UpstreamAmbiguous(self._reason(action, _broken(error))) from None
        answer = self._decode(action, status, kind, body)
        try:
            if isinstance(answer, dict) and "error" in answer and not any(key in answer for key in _CREATED_KEYS):
                raise _Refusal(_text(answer["error"], "the error"))
            return read(answer)
        except _Refusal as refusal:
            raise UpstreamRefused(self._redact(str(refusal))[:_REASON_LENGTH]) from None
        except _Malformed as error:
            raise UpstreamAmbiguous(self._reason(action, str(error))) from None

    def _url_parsed(self) -> httpx.URL:
        if self._parsed is None:
            self._parsed = httpx.URL(self._url)
        return self._parsed

    def _decode(self, action: str, status: int, kind: str, body: bytes) -> object:
        """The answer's JSON with every number kept as its exact text."""
        if not 200 <= status < 300:
            raise UpstreamAmbiguous(self._reason(action, f"HTTP {status}: {self._snippet(body)}"))
        try:
            text = body.decode("utf-8-sig")  # PHP panels sometimes send a byte-order mark
            return json.loads(text, parse_float=str, parse_int=str, parse_constant=_no_constant)
        except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise UpstreamAmbiguous(self._reason(action, f"not JSON ({kind}): {self._snippet(body)}")) from None

    def _snippet(self, body: bytes) -> str:
        """The start of a body for a human; the key is taken out before cutting, never after."""
        text = " ".join(self._redact(body.decode("utf-8", "replace")).split())
        return text[:_SNIPPET_LENGTH] or "empty body"

    def _reason(self, action: str, detail: str) -> str:
        return self._redact(f"{action}: {detail}")[:_REASON_LENGTH]

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text


class _TooLarge(Exception):
    """An answer longer than its limit: refused before more of it is read."""


class _Exchange:
    """One request and its answer, read as a stream; notes whether the request began to go out.

    The overall deadline can end an exchange at any point: before the request's first
    byte was written, the provider certainly saw nothing (safe to retry); after it, it
    may have acted.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sent = False

    async def _trace(self, event: str, info: Mapping[str, object]) -> None:
        if event.endswith("send_request_headers.started"):
            self.sent = True

    def _sending(self) -> None:
        self.sent = True

    async def run(
        self, client: httpx.AsyncClient, url: str, form: Mapping[str, str], timeout: httpx.Timeout
    ) -> tuple[int, str, bytes]:
        """The answer's status, content type and body (a failed answer's first few KB only)."""
        extensions = {"trace": self._trace}
        async with client.stream("POST", url, data=dict(form), timeout=timeout, extensions=extensions) as response:
            kind = response.headers.get("content-type", "no content type")
            return response.status_code, kind, await self._body(response.status_code, response.aiter_bytes())

    async def post(
        self, transport: KeptAliveTransport, url: httpx.URL, form: Mapping[str, str], timeout: httpx.Timeout
    ) -> tuple[int, str, bytes]:
        """``run`` through the engine's lean transport: the same answer, without httpx's models."""
        async with transport.post(url, urlencode(form).encode(), timeout, self._sending) as answer:
            return answer.status, answer.content_type, await self._body(answer.status, answer.chunks())

    async def _body(self, status: int, chunks: AsyncIterator[bytes]) -> bytes:
        failed = not 200 <= status < 300
        limit = min(self.limit, _ERROR_PAGE_LIMIT) if failed else self.limit
        read: list[bytes] = []
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                if failed:  # enough to show what the page says
                    read.append(chunk[: limit - size + len(chunk)])
                    break
                raise _TooLarge(f"an answer larger than {self.limit:,} bytes, refused")
            read.append(chunk)
        return b"".join(read)


def _unsent(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.ConnectTimeout):
        return "could not connect in time"
    if isinstance(error, httpx.PoolTimeout):
        return "no free connection in time"
    if isinstance(error, httpx.UnsupportedProtocol):
        return "not an http(s) address"
    return f"could not connect: {error}" if str(error) else "could not connect"


def _broken(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.ReadTimeout):
        return "no answer in time after the request was sent"
    if isinstance(error, httpx.WriteTimeout):
        return "timed out while sending the request"
    return f"the exchange broke off ({type(error).__name__}: {error})"


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def _id_list(ids: Iterable[int]) -> list[int]:
    """Distinct positive ids in their first order; at most ``MAX_IDS``."""
    unique = list(dict.fromkeys(ids))
    for number in unique:
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            raise ValueError(f"ids must be positive integers, not {number!r}")
    if len(unique) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} ids per call, got {len(unique)}")
    return unique


def _joined(ids: Iterable[int]) -> str:
    return ",".join(map(str, ids))


# --- reading answers (all numbers arrive as their JSON text) ------------------------------


def _show(value: object) -> str:
    """A provider's value for a message: short ones quoted whole, long ones only described."""
    shown = repr(value)
    return shown if len(shown) <= _SHOWN_VALUE_LENGTH else f"a {type(value).__name__} of {len(shown)} characters"


def _object(value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _Malformed(f"expected an object for {what}, got {_show(value)}")
    return value


def _list(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise _Malformed(f"expected a list for {what}, got {_show(value)}")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise _Malformed(f"expected text for {what}, got {_show(value)}")
    return value


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integer(value: object, what: str) -> int:
    """A whole number sent as ``"12"``, ``12`` or ``12.0``."""
    if not isinstance(value, str) or not _WHOLE.match(value.strip()):
        raise _Malformed(f"expected a whole number for {what}, got {_show(value)}")
    return int(value.strip().split(".")[0])


def _optional_integer(value: object, what: str) -> int | None:
    return None if _blank(value) else _integer(value, what)


def _id(value: object, what: str) -> int:
    number = _integer(value, what)
    if number <= 0:
        raise _Malformed(f"expected a positive id for {what}, got {_show(value)}")
    return number


def _amount(value: object, what: str, *, up: bool, signed: bool = False) -> Units:
    try:
        units = parse_amount_rounded(_text(value, what), up=up)
    except AmountError:
        raise _Malformed(f"expected an amount for {what}, got {_show(value)}") from None
    if units < 0 and not signed:
        raise _Malformed(f"expected a non-negative amount for {what}, got {_show(value)}")
    return units


def _flag(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Malformed(f"expected true or false for {what}, got {_show(value)}")


def _optional_text(value: object, default: str) -> str:
    return value if isinstance(value, str) else default


def _status_name(value: object, what: str) -> str:
    """``"In Progress"``, ``"in_progress"`` and ``"IN PROGRESS"`` all read ``"in progress"``."""
    return " ".join(_text(value, what).replace("_", " ").replace("-", " ").split()).lower()


_ORDER_STATUSES = {status.value.lower(): status for status in OrderStatus} | {
    "cancelled": OrderStatus.CANCELED,
    "inprogress": OrderStatus.IN_PROGRESS,
}
_REFILL_STATUSES = {status.value.lower(): status for status in RefillStatus} | {
    "inprogress": RefillStatus.IN_PROGRESS,
}


def _order_status(value: object, what: str) -> OrderStatus:
    status = _ORDER_STATUSES.get(_status_name(value, what))
    if status is None:
        raise _Malformed(f"unknown status {_show(value)} for {what}")
    return status


def _refill_status(value: object, what: str) -> RefillStatus:
    status = _REFILL_STATUSES.get(_status_name(value, what))
    if status is None:
        raise _Malformed(f"unknown refill status {_show(value)} for {what}")
    return status


def _item_error(item: dict[str, object], what: str) -> str | None:
    """The text of ``{"error": "..."}``; None when the item is not an error."""
    if "error" not in item:
        return None
    return _text(item["error"], f"the error of {what}")


def _read_services(answer: object) -> list[UpstreamService]:
    services = []
    for index, entry in enumerate(_list(answer, "the service list")):
        what = f"service #{index + 1}"
        item = _object(entry, what)
        number = _id(item.get("service"), f"the id of {what}")
        what = f"service {number}"
        services.append(
            UpstreamService(
                id=number,
                name=_text(item.get("name"), f"the name of {what}"),
                type=_optional_text(item.get("type"), "Default"),
                category=_optional_text(item.get("category"), ""),
                rate=_amount(item.get("rate"), f"the rate of {what}", up=True),
                min=_integer(item.get("min"), f"the min of {what}"),
                max=_integer(item.get("max"), f"the max of {what}"),
                refill=_flag(item.get("refill"), f"the refill flag of {what}"),
                cancel=_flag(item.get("cancel"), f"the cancel flag of {what}"),
                description=_optional_text(item.get("description"), ""),
            )
        )
    return services


def _read_balance(answer: object) -> tuple[Units, str]:
    item = _object(answer, "the balance")
    balance = _amount(item.get("balance"), "the balance", up=False, signed=True)
    return balance, _optional_text(item.get("currency"), "")


def _read_order_id(answer: object) -> int:
    return _id(_object(answer, "the new order").get("order"), "the new order's id")


def _read_refill_id(answer: object) -> int:
    value = _object(answer, "the new refill").get("refill")
    if isinstance(value, dict):
        error = _item_error(value, "the refill")
        if error is not None:
            raise _Refusal(error)
    return _id(value, "the new refill's id")


def _one_status(value: object, what: str) -> UpstreamOrderStatus | str:
    item = _object(value, what)
    error = _item_error(item, what)
    if error is not None:
        return error
    charge = item.get("charge")
    currency = item.get("currency")
    return UpstreamOrderStatus(
        status=_order_status(item.get("status"), what),
        charge=None if _blank(charge) else _amount(charge, f"the charge of {what}", up=False),
        start_count=_optional_integer(item.get("start_count"), f"the start count of {what}"),
        remains=_optional_integer(item.get("remains"), f"the remains of {what}"),
        currency=currency if isinstance(currency, str) and currency else None,
    )


def _keyed(answer: dict[str, object]) -> dict[int, object]:
    """An object keyed by ids as text; keys that are not ids are ignored."""
    found: dict[int, object] = {}
    for key, value in answer.items():
        if _WHOLE.match(key.strip()):
            found.setdefault(int(key.strip().split(".")[0]), value)
    return found


def _read_statuses(answer: object, ids: list[int]) -> dict[int, UpstreamOrderStatus | str]:
    item = _object(answer, "the statuses")
    if len(ids) == 1 and "status" in item:  # some panels answer one id in the single-order shape
        return {ids[0]: _one_status(item, f"order {ids[0]}")}
    found = _keyed(item)
    return {number: _one_status(found[number], f"order {number}") for number in ids if number in found}


def _one_refill_status(value: object, what: str) -> RefillStatus | str:
    if isinstance(value, dict):
        error = _item_error(value, what)
        if error is not None:
            return error
    return _refill_status(value, what)


def _read_refill_statuses(answer: object, ids: list[int]) -> dict[int, RefillStatus | str]:
    found: dict[int, object] = {}
    if isinstance(answer, dict):
        if len(ids) == 1 and "status" in answer:  # the single-refill shape
            found[ids[0]] = answer["status"]
        else:  # keyed by id, like multi-status
            for number, value in _keyed(answer).items():
                found[number] = value["status"] if isinstance(value, dict) and "status" in value else value
    else:
        for entry in _list(answer, "the refill statuses"):
            item = _object(entry, "a refill status")
            number = _id(item.get("refill"), "the id of a refill status")
            found.setdefault(number, item.get("status"))
    return {number: _one_refill_status(found[number], f"refill {number}") for number in ids if number in found}


def _cancel_outcome(item: dict[str, object], what: str) -> str | None:
    if "cancel" not in item:
        error = _item_error(item, what)
        if error is None:
            raise _Malformed(f"no cancel outcome for {what}")
        return error
    outcome = item["cancel"]
    if isinstance(outcome, dict):
        error = _item_error(outcome, what)
        if error is not None:
            return error
        outcome = outcome.get("status")
    if outcome is True or (isinstance(outcome, str) and outcome.strip().lower() in ("1", "success", "ok", "true")):
        return None
    raise _Malformed(f"unknown cancel outcome {_show(item['cancel'])} for {what}")


def _read_cancels(answer: object, ids: list[int]) -> dict[int, str | None]:
    entries = [answer] if isinstance(answer, dict) and "order" in answer else _list(answer, "the cancel outcomes")
    found: dict[int, str | None] = {}
    for entry in entries:
        item = _object(entry, "a cancel outcome")
        number = _id(item.get("order"), "the order of a cancel outcome")
        if number not in found:
            found[number] = _cancel_outcome(item, f"order {number}")
    return {number: found[number] for number in ids if number in found}
