"""Reading API v2 parameters from every place real reseller clients put them.

Query string, url-encoded form, multipart form and JSON bodies all end up as
one flat ``dict[str, str]``; a body value wins over a query value. Lists sent as
``orders[]=1&orders[]=2`` or as a JSON array become the comma-separated string
that the classic clients send, so that every action reads one shape.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Scope

from smmpanel.domain import messages as msg
from smmpanel.errors import Refused

MAX_IDS = 100
_LINE_LISTS = frozenset({"comments", "usernames"})
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


NESTED_TOO_DEEPLY = "Malformed request: JSON nested too deeply"


class TransportError(Exception):
    """The request cannot be read as an API call at all."""

    def __init__(self, message: str, status_code: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


Params = dict[str, str]


def _joined(name: str, values: list[str]) -> str:
    return ("\n" if name in _LINE_LISTS else ",").join(values)


def _from_pairs(pairs: list[tuple[str, str]]) -> Params:
    """Repeated ``name[]`` fields, and repeated ``comments`` / ``usernames`` fields, make one list.

    Any other repeated name keeps its last value, as PHP panels do. Clients that get a
    Python list of comments (``requests`` sends ``comments=a&comments=b``) lose none.
    """
    params: Params = {}
    lists: dict[str, list[str]] = {}
    for name, value in pairs:
        if name.endswith("[]"):
            lists.setdefault(name[:-2], []).append(value)
        elif name in _LINE_LISTS:
            lists.setdefault(name, []).append(value)
        else:
            params[name] = value
    params.update({name: _joined(name, values) for name, values in lists.items()})
    return params


def _plain_pairs(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True)`` of a text with no escape (no ``%``, no ``+``):
    what a polling call sends, split at a third of the cost (issue #16 item 8)."""
    pairs = []
    for item in text.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((name, value))
    return pairs


def _urlencoded(raw: bytes) -> Params:
    try:
        text = raw.decode("utf-8")
        if "%" in text or "+" in text:
            pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        else:
            pairs = _plain_pairs(text)
    except (UnicodeDecodeError, ValueError):
        raise TransportError("Malformed request: parameters are not valid UTF-8") from None
    return _from_pairs(pairs)


def _json_value(name: str, value: object) -> str | None:
    if value is None or isinstance(value, dict):  # no parameter is an object: one sent as such counts as absent
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return _joined(name, [item if isinstance(item, str) else _json_text(item) for item in value])
    return _json_text(value)


def _json_text(value: object) -> str:
    """A JSON value written back as its text; nesting past orjson's limit (254) is no API call."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        raise TransportError(NESTED_TOO_DEEPLY) from None


def _json(raw: bytes) -> Params:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):
            raise TransportError(NESTED_TOO_DEEPLY) from None
        raise TransportError("Malformed request: body is not valid JSON") from None
    if not isinstance(document, dict):
        raise TransportError("Malformed request: JSON body must be an object")
    params: Params = {}
    for name, value in document.items():
        text = _json_value(name, value)
        if text is not None:
            params[name] = text
    return params


async def _multipart(request: Request, raw: bytes) -> Params:
    try:  # as for url-encoded bodies; the parser itself would silently fall back to Latin-1
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TransportError("Malformed request: parameters are not valid UTF-8") from None

    async def replay() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=0, max_fields=1000)
    except Exception:  # the multipart parser raises several unrelated types
        raise TransportError("Malformed request: unreadable multipart body") from None
    return _from_pairs([(name, value) for name, value in form.multi_items() if not isinstance(value, UploadFile)])


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused (413) past ``limit`` bytes before more is read: for signed callbacks, whose
    limit is smaller than the one every request passes in ``smmpanel.api.body_limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TransportError("Request body too large", status_code=413)
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise TransportError("Request body too large", status_code=413)
    return bytes(chunks)


async def _whole_body(request: Request) -> bytes:
    """``request.body()`` without its async generator, whose set-up and finalizer hooks cost a polling
    call more than reading its one message (issue #16 item 8)."""
    chunks = []
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _content_type(scope: Scope) -> str:
    """The ``Content-Type`` header (the form's when absent), read from the scope without building
    Starlette's ``Headers`` for one lookup."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return _FORM


async def read_params(request: Request) -> Params:
    """The request's parameters; its body has passed ``smmpanel.api.body_limit`` on the way in."""
    query = request.scope.get("query_string", b"")
    params = _urlencoded(query) if query else {}
    raw = await _whole_body(request)
    if not raw.strip():
        return params
    content_type = _content_type(request.scope).split(";")[0].strip().lower()
    if content_type == _FORM:
        body = _urlencoded(raw)
    elif content_type == "application/json" or content_type.endswith("+json"):
        body = _json(raw)
    elif content_type == _MULTIPART:
        body = await _multipart(request, raw)
    else:
        raise TransportError(f"Unsupported content type {content_type[:100]!r}")
    params.update(body)
    return params


def id_list(text: str | None) -> list[str]:
    """The ids of a list parameter as given, trimmed, each once, at most ``MAX_IDS``."""
    seen: dict[str, None] = {}
    for token in (text or "").split(","):
        token = token.strip()
        if token:
            seen.setdefault(token, None)
    if len(seen) > MAX_IDS:
        raise Refused(msg.TOO_MANY_IDS)
    return list(seen)
