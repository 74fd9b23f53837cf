"""The admin API's wire format: the answer envelope, its error codes, and reading parameters.

Every answer is ``{"data": …, "error_code": 0, "error_message": ""}``; an error is
``{"data": null, "error_code": <code>, "error_message": "…"}``, with HTTP 200 for API-level
errors (clients read the code, not the status), 413 for a body too large and 429 for the
rate limit. The codes borrow HTTP's numbers, so that they read at a glance:

| code | meaning |
|---|---|
| 0 | success |
| 400 | malformed request or an invalid parameter (the message names it) |
| 401 | missing, unknown or revoked API key |
| 403 | the key's role does not allow this endpoint |
| 404 | no such order, user, ticket, refill or endpoint |
| 409 | refused by the panel's rules (an order already finished, a balance too low …) |
| 413 | request body too large (HTTP 413) |
| 429 | too many requests for this key (HTTP 429, ``Retry-After``) |
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from smmpanel.domain.orders import OrderStatus, parse_whole
from smmpanel.domain.refills import RefillStatus
from smmpanel.errors import SmmPanelError

JSON_TYPE = "application/json; charset=utf-8"

OK = 0
BAD_REQUEST = 400
INVALID_KEY = 401
FORBIDDEN = 403
NOT_FOUND = 404
REFUSED = 409
TOO_LARGE = 413
TOO_MANY = 429

MAX_IDS = 100
MAX_LIMIT = 1000
MAX_NUMBER = 2**53
"""No id, count or timestamp beyond this is real: larger ones are refused before any query."""

Params = dict[str, Any]


class ApiError(SmmPanelError):
    """An answer with a non-zero ``error_code``."""

    def __init__(self, code: int, message: str, status_code: int = 200, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


def answer(data: object, *, extra: Mapping[str, object] | None = None) -> Response:
    body: dict[str, object] = {"data": data, **(extra or {}), "error_code": OK, "error_message": ""}
    return Response(orjson.dumps(body), media_type=JSON_TYPE)


def failure(error: ApiError) -> Response:
    body = {"data": None, "error_code": error.code, "error_message": error.message}
    headers = None if error.retry_after is None else {"Retry-After": str(error.retry_after)}
    return Response(orjson.dumps(body), status_code=error.status_code, media_type=JSON_TYPE, headers=headers)


def _no_constant(text: str) -> object:
    raise ValueError(f"{text} is not a number")


def json_object(raw: bytes) -> Params:
    """A JSON body as an object; numbers with a fraction stay text, so no amount meets a float."""
    if not raw.strip():
        return {}
    try:
        document = json.loads(raw, parse_float=str, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ApiError(BAD_REQUEST, "Malformed request: body is not valid JSON") from None
    if not isinstance(document, dict):
        raise ApiError(BAD_REQUEST, "Malformed request: JSON body must be an object")
    return document


def bad(name: str, what: str) -> ApiError:
    return ApiError(BAD_REQUEST, f"Incorrect {name}: {what}")


def _whole_of(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    number = value if isinstance(value, int) else parse_whole(value) if isinstance(value, str) else None
    return number if number is not None and 0 <= number <= MAX_NUMBER else None


def whole(params: Params, name: str, default: int | None = None, *, low: int = 0, high: int = MAX_NUMBER) -> int:
    """A whole number between ``low`` and ``high``, as a JSON number or digits."""
    value = params.get(name)
    if value is None or value == "":
        if default is None:
            raise bad(name, "required")
        return default
    number = _whole_of(value)
    if number is None or not low <= number <= high:
        raise bad(name, f"expected a whole number from {low} to {high}")
    return number


def optional_whole(params: Params, name: str) -> int | None:
    return None if params.get(name) in (None, "") else whole(params, name)


def ids(params: Params, name: str, *, required: bool = False) -> list[int]:
    """Positive ids as a JSON array or a comma-separated text, each once, at most ``MAX_IDS``."""
    value = params.get(name)
    if value is None or value == "" or value == []:
        if required:
            raise bad(name, "required")
        return []
    items: list[Any] = value if isinstance(value, list) else str(value).split(",")
    found: dict[int, None] = {}
    for item in items:
        number = _whole_of(item.strip() if isinstance(item, str) else item)
        if not number:
            raise bad(name, "expected positive ids")
        found.setdefault(number, None)
    if len(found) > MAX_IDS:
        raise bad(name, f"at most {MAX_IDS} ids")
    return list(found)


def text(params: Params, name: str, *, required: bool = True, default: str = "") -> str:
    value = params.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise bad(name, "required")
        return default
    if not isinstance(value, str | int) or isinstance(value, bool) or "\x00" in str(value):
        raise bad(name, "expected text")
    return str(value)


def moment(params: Params, name: str) -> datetime | None:
    """A time as Unix seconds, ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    seconds = _whole_of(value)
    if seconds is not None:
        if seconds > 253402300799:
            raise bad(name, "too far in the future")
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    if isinstance(value, str):
        for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                return datetime.strptime(value.strip(), layout)
            except ValueError:
                continue
    raise bad(name, "expected Unix seconds, YYYY-MM-DD or YYYY-MM-DD HH:MM:SS")


ORDER_STATUSES = {
    OrderStatus.PENDING: "pending",
    OrderStatus.IN_PROGRESS: "in_progress",
    OrderStatus.PROCESSING: "processing",
    OrderStatus.COMPLETED: "completed",
    OrderStatus.PARTIAL: "partial",
    OrderStatus.CANCELED: "canceled",
}
REFILL_STATUSES = {
    RefillStatus.PENDING: "pending",
    RefillStatus.IN_PROGRESS: "in_progress",
    RefillStatus.COMPLETED: "completed",
    RefillStatus.REJECTED: "rejected",
}
_SPELLINGS = {"inprogress": "in_progress", "cancelled": "canceled"}


def _normal(value: str) -> str:
    name = value.strip().lower().replace(" ", "_").replace("-", "_")
    return _SPELLINGS.get(name, name)


def order_status(value: object, name: str = "status") -> OrderStatus:
    """``in_progress``, ``In progress``, ``inprogress`` …: every spelling clients send."""
    if isinstance(value, str):
        for status, wire in ORDER_STATUSES.items():
            if _normal(value) == wire:
                return status
    raise bad(name, "expected one of " + ", ".join(ORDER_STATUSES.values()))


def order_statuses(params: Params, name: str) -> list[OrderStatus]:
    value = params.get(name)
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [order_status(item, name) for item in items]


def refill_status(value: object) -> RefillStatus:
    if isinstance(value, str):
        for status, wire in REFILL_STATUSES.items():
            if _normal(value) == wire or (wire == "completed" and _normal(value) == "approved"):
                return status
    raise bad("status", "expected one of " + ", ".join(REFILL_STATUSES.values()))
