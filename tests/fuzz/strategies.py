"""Random API v2 requests, valid and junk, and the rules every answer must keep.

Shared by the CI fuzz test (``tests/fuzz/test_api_fuzz.py``, a few hundred requests) and
the long run (``benchmarks/fuzz_long.py``, 100,000): both draw from ``api_requests`` and
judge each answer with ``check_answer``, on a panel seeded by ``seed``.

A request mixes real parameter names and values (the seeded customer's key, real service
and order ids, so that actions get past authentication and reach the use cases) with junk:
unknown names, huge and negative numbers, floats, unicode, NUL, very long strings, lists,
JSON objects. It is encoded as a form, multipart (sometimes broken), JSON of any shape,
invalid UTF-8, the query string alone, or raw bytes under any content type, sent by GET or
POST, sometimes over the body size limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from hypothesis import strategies as st

from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.orders import OrderStatus
from smmpanel.usecases import accounts, catalog, orders

JSON_TYPE = "application/json; charset=utf-8"
MAX_BODY = 16_384
"""The fuzzed server's body limit: small, so that oversized bodies are cheap to send."""
TOO_LARGE = {"error": "Request body too large"}
TOO_MANY = {"error": "Too many requests"}
MAX_QUERY = 60_000
"""Client libraries refuse longer URLs (httpx: 65,536), so no reseller can send one."""
SERVER_SETTINGS: dict[str, Any] = {"max_body_bytes": MAX_BODY, "invalid_key_limit": "off", "run_engine": False}
"""The fuzzed server: junk keys must not lock the fuzzer out (a 429 is still checked when it comes)."""
ACTIONS = ("add", "status", "cancel", "refill", "refill_status", "subscriptions", "services", "balance")
"""Hypothesis draws the first ones most often: the actions that change or read orders come first."""
NAMES = (
    "key",
    "action",
    "service",
    "link",
    "quantity",
    "runs",
    "interval",
    "order",
    "orders",
    "refill",
    "refills",
    "comments",
    "usernames",
    "username",
    "hashtag",
    "answer_number",
    "min",
    "max",
    "delay",
    "posts",
    "old_posts",
    "expiry",
    "orders[]",
    "refills[]",
    "comments[]",
)


@dataclass(frozen=True)
class Target:
    """What the fuzzer knows of the seeded panel."""

    key: str
    service_ids: tuple[int, ...]
    order_ids: tuple[int, ...]


async def seed(db: Database) -> Target:
    """A customer with money, one service of every type, and a few orders (one a drip-feed)."""
    key = (await accounts.create_customer(db, "fuzz", 10**12)).api_key
    (customer,) = [c for c in await accounts.list_customers(db) if c.username == "fuzz"]
    service_ids = []
    for n, kind in enumerate(ServiceType):
        changes = catalog.ServiceChanges(
            name=f"{kind.value} {n}",
            category="Fuzz",
            type=kind,
            rate=12_345,
            min=1,
            max=10_000,
            refill=n % 2 == 0,
            cancel=n % 3 != 0,
        )
        service_ids.append(await catalog.create_service(db, changes))
    default = str(service_ids[0])
    order_ids = []
    for extra in ({}, {"runs": "3", "interval": "5"}, {}):
        params = {"service": default, "link": "https://x.test/p", "quantity": "100", **extra}
        order_ids.append(await orders.place_order(db, customer.id, params))
    await orders.update_order(db, order_ids[2], orders.OrderUpdate(status=OrderStatus.COMPLETED))
    return Target(key, tuple(service_ids), tuple(order_ids))


# --- values and parameters ------------------------------------------------------------

SPECIAL = (
    "",
    " ",
    "0",
    "-1",
    "00001",
    "1e3",
    "0x10",
    "1.0",
    "1,2,3",
    ",,,",
    "1, 2 ,3",
    "١٢",
    "𝟙𝟚",
    "null",
    "true",
    "[]",
    "{}",
    "NaN",
    "Infinity",
    "%00",
    "%FF",
    "\x00",
    "1\x00",
    "a\r\nb\nc",
    "\u202e",
    "\ufeff1",
    "01/01/2000",
    "31/12/2999",
    "https://x.test/p",
    "<script>",
    "' OR 1=1 --",
    "${jndi:x}",
)


TEXT_VALUES: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=40),
    st.integers(-(10**6), 10**6).map(str),
    st.integers(-(10**40), 10**40).map(str),
    st.floats().map(repr),
    st.lists(st.integers(-5, 10**20).map(str), max_size=120).map(",".join),
    st.tuples(st.sampled_from("9a,\x00é\n"), st.integers(1_000, 20_000)).map(lambda pair: pair[0] * pair[1]),
)
"""Any text a parameter could carry."""
NAME_VALUES = st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES), st.text(max_size=12))  # 2:1


@st.composite
def choice(draw: st.DrawFn, *options: st.SearchStrategy[Any]) -> Any:
    """Each option about equally likely. ``st.one_of`` is no good here: it flattens options that are
    themselves ``one_of`` (seven junk branches would outweigh one plain value), and it avoids
    repeating a choice with nothing left to vary, such as ``st.just(key)``."""
    return draw(options[draw(st.integers(0, len(options) - 1))])


def known_values(target: Target) -> st.SearchStrategy[str]:
    """The seeded panel's own key and ids, so that requests get past the first checks."""
    ids = st.sampled_from(target.order_ids + target.service_ids + (1, 2, 3, 10**18, 2**63, 2**64)).map(str)
    return st.one_of(
        st.just(target.key),
        st.sampled_from(ACTIONS),
        ids,
        st.lists(ids, min_size=1, max_size=6).map(",".join),
    )


def json_values(known: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Any JSON value, nested, with big numbers (past 64 bits too) among the scalars."""
    scalars = st.one_of(
        TEXT_VALUES,
        known,
        st.integers(-(2**63), 2**64),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
        max_leaves=12,
    )


def plausible_values(target: Target) -> dict[str, st.SearchStrategy[Any]]:
    """For each real parameter, values a client might really send, and now and then junk."""
    services = st.sampled_from(target.service_ids)
    orders = st.sampled_from(target.order_ids)

    def number(low: int, high: int) -> st.SearchStrategy[Any]:
        return choice(st.integers(low, high).map(str), st.integers(low, high), TEXT_VALUES)

    def id_list(ids: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
        listed = st.lists(choice(ids, st.integers(-3, 10**6)), min_size=1, max_size=5)
        return choice(listed.map(lambda items: ",".join(map(str, items))), listed, TEXT_VALUES)

    lines = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6)
    return {
        "service": choice(services, services.map(str), TEXT_VALUES),
        "link": choice(st.just("https://x.test/p"), st.text(max_size=30).map("https://x.test/".__add__), TEXT_VALUES),
        "quantity": number(0, 20_000),
        "runs": number(0, 1_001),
        "interval": number(0, 50_000),
        "order": choice(orders, orders.map(str), TEXT_VALUES),
        "orders": id_list(orders),
        "refill": number(0, 5),
        "refills": id_list(st.integers(1, 5)),
        "comments": choice(lines.map("\n".join), lines, TEXT_VALUES),
        "usernames": choice(lines.map("\r\n".join), lines, TEXT_VALUES),
        "username": choice(st.just("someone"), TEXT_VALUES),
        "hashtag": choice(st.just("#tag"), TEXT_VALUES),
        "answer_number": number(0, 10),
        "min": number(0, 20_000),
        "max": number(0, 20_000),
        "delay": choice(st.sampled_from(["0", "5", "60", "7"]), TEXT_VALUES),
        "posts": number(0, 100),
        "old_posts": number(0, 2_000),
        "expiry": choice(st.sampled_from(["31/12/2999", "01/01/2000", "2999-12-31", "31/02/2999"]), TEXT_VALUES),
    }


def parameters(
    target: Target, known: st.SearchStrategy[str], jsons: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly a real call: the key, an action, some of the real parameters with plausible values,
    then a few extra parameters whose names and values are anything at all."""
    key = choice(st.just(target.key), st.just(target.key), st.just(target.key), st.none(), TEXT_VALUES)
    actions = st.sampled_from(ACTIONS)
    action = choice(actions, actions, actions, st.none(), TEXT_VALUES)
    plausible = plausible_values(target)
    orders = st.fixed_dictionaries(  # an ``add`` that may well succeed, whatever else comes with it
        {
            "service": st.sampled_from(target.service_ids),
            "link": st.integers(0, 10**6).map("https://x.test/p{}".format),
            "quantity": st.integers(1, 10_000).map(str),
        },
        optional={name: value for name, value in plausible.items() if name not in ("service", "link", "quantity")},
    )
    real = choice(st.fixed_dictionaries({}, optional=plausible), orders)
    extra = st.dictionaries(NAME_VALUES, choice(known, TEXT_VALUES, jsons), max_size=3)

    def combine(parts: tuple[str | None, str | None, dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
        key, action, real, extra = parts
        given = {name: value for name, value in (("key", key), ("action", action)) if value is not None}
        return {**extra, **given, **real}

    return st.tuples(key, action, real, extra).map(combine)


# --- encodings -------------------------------------------------------------------------


@dataclass(frozen=True)
class FuzzRequest:
    method: str
    path: str
    query: bytes
    headers: tuple[tuple[str, str], ...]
    body: bytes
    chunked: bool = False
    """Sent in chunks, without a Content-Length: the size limit must hold while reading."""

    def __repr__(self) -> str:  # the failing example, readable even with a 20 kB body
        body = self.body if len(self.body) <= 300 else self.body[:300] + b"...(%d bytes)" % len(self.body)
        chunked = " chunked" if self.chunked else ""
        return f"FuzzRequest({self.method} {self.path}?{self.query[:300]!r} {self.headers}{chunked} {body!r})"


def as_text(value: Any) -> str:
    """How a form or query string carries a value: lists and objects as JSON text."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def form_pairs(params: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, list):
            pairs.extend((f"{name}[]" if not name.endswith("[]") else name, as_text(item)) for item in value)
        else:
            pairs.append((name, as_text(value)))
    return pairs


def urlencoded(params: dict[str, Any]) -> bytes:
    # surrogates cannot be written as UTF-8: "surrogatepass" keeps them as invalid bytes on purpose
    return urlencode(form_pairs(params), encoding="utf-8", errors="surrogatepass").encode("ascii")


def multipart_body(params: dict[str, Any], boundary: str, *, broken: int, with_file: bool) -> bytes:
    body = b""
    for name, value in form_pairs(params):
        quoted = name.replace('"', "%22").replace("\r", "").replace("\n", "")
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{quoted}"'
        body += head.encode("utf-8", "surrogatepass") + b"\r\n\r\n"
        body += value.encode("utf-8", "surrogatepass") + b"\r\n"
    if with_file:
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n'.encode()
        body += b"Content-Type: application/octet-stream\r\n\r\n\x00\xff\xfe\r\n"
    body += f"--{boundary}--\r\n".encode()
    if broken == 1:
        body = body[: len(body) // 2]
    elif broken == 2:
        body = body.replace(b"\r\n", b"\n")
    return body


CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/json",
    "application/json; charset=utf-16",
    "application/vnd.api+json",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "text/plain",
    "application/xml",
    "application/octet-stream",
    "",
    ";",
    "*/*",
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60).map(str.strip)
"""Any content type a client library lets through (h11 refuses control characters and edge spaces)."""


def api_requests(target: Target) -> st.SearchStrategy[FuzzRequest]:
    """One request to ``/api/v2`` in a random encoding (the strategies are built once, drawn many times)."""
    known = known_values(target)
    jsons = json_values(known)
    return _requests(parameters(target, known, jsons), jsons)


@st.composite
def _requests(
    draw: st.DrawFn, parameters: st.SearchStrategy[dict[str, Any]], jsons: st.SearchStrategy[Any]
) -> FuzzRequest:
    params = draw(parameters)
    method = draw(st.sampled_from(["POST", "POST", "GET"]))
    path = draw(st.sampled_from(["/api/v2", "/api/v2/"]))
    encoding = draw(
        st.sampled_from(
            ["form", "form", "query", "multipart", "json", "json", "json-other", "bad-utf8", "raw", "split", "huge"]
        )
    )
    query = b""
    headers: list[tuple[str, str]] = []
    body = b""
    if encoding == "form":
        body = urlencoded(params)
        headers.append(("content-type", "application/x-www-form-urlencoded"))
    elif encoding == "query":
        query = urlencoded(params)
    elif encoding == "split":  # some parameters in the query string, the rest (winning) in the body
        items = list(params.items())
        cut = draw(st.integers(0, len(items)))
        query, body = urlencoded(dict(items[:cut])), urlencoded(dict(items[cut:]))
        headers.append(("content-type", "application/x-www-form-urlencoded"))
    elif encoding == "multipart":
        boundary = draw(st.sampled_from(["b0undary", "x" * 70, "-", "a b"]))
        broken = draw(st.integers(0, 4))
        body = multipart_body(params, boundary, broken=broken if broken < 3 else 0, with_file=draw(st.booleans()))
        declared = draw(st.sampled_from([boundary, boundary, "other", ""]))
        headers.append(("content-type", f"multipart/form-data; boundary={declared}"))
    elif encoding == "json":
        document = draw(st.one_of(st.just(params), st.just(params), jsons))
        body = json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
        headers.append(("content-type", draw(st.sampled_from(["application/json", "application/json; charset=utf-8"]))))
    elif encoding == "json-other":  # broken JSON, or JSON-ish text under a JSON type
        text = json.dumps(params)
        body = draw(
            st.sampled_from(
                [
                    text[: len(text) // 2].encode(),
                    text.encode("utf-16"),
                    b"\xef\xbb\xbf" + text.encode(),
                    text.replace('"', "'").encode(),
                    b"[" * 5000,
                    b'{"key": NaN}',
                    b'{"a": 1e999}',
                    b'{"key": "\\ud800"}',
                ]
            )
        )
        headers.append(("content-type", draw(st.sampled_from(["application/json", "text/json", "x/y+json"]))))
    elif encoding == "bad-utf8":
        good = urlencoded(params)
        junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"%FF", b"%C3%28", b"\x80=1"]))
        at = draw(st.integers(0, len(good)))
        body = good[:at] + junk + good[at:]
        headers.append(("content-type", draw(st.sampled_from((*CONTENT_TYPES[:2], "multipart/form-data; boundary=b")))))
        if draw(st.booleans()):
            query, body = quote(body, safe="=&%").encode(), b""
    elif encoding == "raw":
        body = draw(st.binary(max_size=200))
        headers.append(("content-type", draw(st.one_of(st.sampled_from(CONTENT_TYPES), HEADER_TEXT))))
    else:  # "huge": over the limit, in any encoding
        filler = draw(st.sampled_from([b"a", b"%", b"\x00", b"{"]))
        body = urlencoded(params) + b"&pad=" + filler * (MAX_BODY + draw(st.integers(1, 4096)))
        headers.append(("content-type", draw(st.sampled_from(CONTENT_TYPES))))
    chunked = bool(body) and draw(st.integers(0, 3)) == 0
    return FuzzRequest(method, path, query[:MAX_QUERY], tuple(headers), body, chunked)


# --- sending and judging ------------------------------------------------------------------


def send(client: httpx.Client, base_url: str, request: FuzzRequest) -> httpx.Response:
    url = httpx.URL(base_url + request.path)
    if request.query:
        url = url.copy_with(query=request.query)
    content: bytes | Iterator[bytes] | None = request.body or None
    if request.chunked:
        content = iter([request.body[i : i + 4096] for i in range(0, len(request.body), 4096)])
    return client.request(request.method, url, headers=list(request.headers), content=content)


def check_answer(request: FuzzRequest, response: httpx.Response) -> None:
    """What every answer must be, whatever was asked: JSON, no trace, never a server fault."""
    body = response.content
    context = f"{request!r} -> {response.status_code} {body[:500]!r}"
    assert response.status_code not in (500, 503), context
    assert response.status_code in (200, 413, 429), context
    assert response.headers.get("content-type") == JSON_TYPE, context
    text = body.decode("utf-8")
    assert "Traceback" not in text and 'File "' not in text, context
    answer = json.loads(text)
    if response.status_code == 413:
        assert answer == TOO_LARGE, context
    if response.status_code == 429:
        assert answer == TOO_MANY, context
    if isinstance(answer, dict) and "error" in answer:
        assert isinstance(answer["error"], str) and answer["error"], context
    if request.body and len(request.body) > MAX_BODY:
        assert response.status_code == 413, context
