"""How API v2 requests are read (contract "Transport"), and how bad input is answered.

Every test drives a live server over HTTP. Bad input must be answered with one JSON
``{"error": ...}`` (HTTP 200, or 413 for an oversized body), must change nothing and
must leave the server answering the next call.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from smmpanel.domain.catalog import ServiceType
from smmpanel.usecases import orders
from tests.support.engine import wait_for
from tests.support.panel import Panel

JSON_TYPE = "application/json; charset=utf-8"
BIG = 10 * 1024 * 1024  # 10 MB, ten times the default limit
TOO_LARGE = {"error": "Request body too large"}
NOT_UTF8 = {"error": "Malformed request: parameters are not valid UTF-8"}
NOT_JSON = {"error": "Malformed request: body is not valid JSON"}
NOT_OBJECT = {"error": "Malformed request: JSON body must be an object"}


@dataclass
class Shop:
    """A panel with one customer (balance 10.00) and one Default service at 0.90 per 1000."""

    panel: Panel
    key: str
    service: int

    @property
    def url(self) -> str:
        assert self.panel.api_url is not None
        return self.panel.api_url

    def send(self, method: str = "POST", url: str | None = None, **request: Any) -> httpx.Response:
        return self.panel.http.request(method, url or self.url, **request)

    def order(self, **extra: Any) -> dict[str, Any]:
        """A valid ``add`` (cost 0.90), to be sent in any encoding."""
        return {"key": self.key, "action": "add", "service": self.service, "link": "https://x.test/p", **extra}

    def order_count(self) -> int:
        return len(self.panel.run(lambda db: orders.list_orders(db, username=None, status=None, limit=1_000_000)))

    def charge_of(self, order_id: int) -> str:
        answer = self.panel.call(self.key, "status", order=order_id)
        assert isinstance(answer, dict)
        return str(answer["charge"])


@pytest.fixture
def shop(panel: Panel) -> Shop:
    key = panel.customer("alice", balance="10")
    service = panel.service(rate="0.90", min=50, max=10000)
    return Shop(panel, key, service)


def answer_of(response: httpx.Response, status_code: int = 200) -> Any:
    """The JSON of an answer, after the checks every answer must pass."""
    text = response.text
    assert "Traceback" not in text and 'File "' not in text, text
    assert response.status_code == status_code, (response.status_code, text[:500])
    assert response.headers["content-type"] == JSON_TYPE
    assert "location" not in response.headers
    return response.json()


def assert_untouched(shop: Shop, *, balance: str = "10.00", order_count: int = 0) -> None:
    """Nothing changed, and the server still answers a normal call."""
    assert shop.panel.balance("alice") == balance
    assert shop.order_count() == order_count
    assert shop.panel.call(shop.key, "balance") == {"balance": balance, "currency": "USD"}
    assert shop.panel.ledger_ok()


def multipart(fields: dict[str, Any] | list[tuple[str, Any]]) -> list[tuple[str, tuple[None, str]]]:
    """httpx ``files=`` entries for plain multipart form fields (no filename)."""
    items = fields.items() if isinstance(fields, dict) else fields
    return [(name, (None, str(value))) for name, value in items]


def multipart_raw(fields: list[tuple[str, bytes]], boundary: str = "smmpanel-test-boundary") -> tuple[bytes, str]:
    """A hand-written multipart body, for bytes no client library would send."""
    body = b""
    for name, value in fields:
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------- endpoint and encodings


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_endpoint_answers_with_and_without_trailing_slash(shop: Shop, method: str) -> None:
    expected = {"balance": "10.00", "currency": "USD"}
    for url in (shop.url, shop.url + "/"):
        params = {"key": shop.key, "action": "balance"}
        response = shop.send(method, url, params=params, follow_redirects=False)
        assert answer_of(response) == expected
        assert response.url == httpx.URL(url, params=params)
        assert response.history == []


def test_post_to_trailing_slash_places_the_order(shop: Shop) -> None:
    response = shop.send("POST", shop.url + "/", data=shop.order(quantity=1000), follow_redirects=False)
    assert answer_of(response) == {"order": 1}
    assert shop.panel.balance("alice") == "9.10"


ENCODINGS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "urlencoded": lambda fields: {"data": fields},
    "multipart": lambda fields: {"files": multipart(fields)},
    "json": lambda fields: {"json": fields},
    "json-charset": lambda fields: {
        "content": json.dumps(fields).encode(),
        "headers": {"content-type": "application/json; charset=utf-8"},
    },
    "urlencoded-charset": lambda fields: {
        "content": str(httpx.QueryParams(fields)).encode(),
        "headers": {"content-type": "application/x-www-form-urlencoded; charset=UTF-8"},
    },
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_post_body_encodings_place_an_order(shop: Shop, encoding: str) -> None:
    response = shop.send("POST", **ENCODINGS[encoding](shop.order(quantity=1000)))
    assert answer_of(response) == {"order": 1}
    assert shop.panel.call(shop.key, "status", order=1) == {
        "charge": "0.90",
        "start_count": "0",
        "status": "Pending",
        "remains": "1000",
        "currency": "USD",
    }
    assert shop.panel.balance("alice") == "9.10"
    assert shop.panel.ledger_ok()


def test_json_numbers_are_read_as_ids_and_quantities(shop: Shop) -> None:
    fields = {"key": shop.key, "action": "add", "service": shop.service, "link": "https://x.test/p", "quantity": 500}
    assert answer_of(shop.send(json=fields)) == {"order": 1}
    assert shop.charge_of(1) == "0.45"
    assert answer_of(shop.send(json={"key": shop.key, "action": "status", "order": 1}))["charge"] == "0.45"


def test_get_with_query_string_places_an_order(shop: Shop) -> None:
    response = shop.send("GET", params=shop.order(quantity=2000))
    assert answer_of(response) == {"order": 1}
    assert shop.charge_of(1) == "1.80"
    assert shop.panel.balance("alice") == "8.20"


def test_query_string_is_read_on_a_post(shop: Shop) -> None:
    response = shop.send("POST", params={"key": shop.key, "action": "balance"})
    assert answer_of(response) == {"balance": "10.00", "currency": "USD"}
    # split: key and action in the query, the order's fields in the body
    response = shop.send(
        "POST",
        params={"key": shop.key, "action": "add"},
        data={"service": shop.service, "link": "https://x.test/p", "quantity": 1000},
    )
    assert answer_of(response) == {"order": 1}
    assert shop.panel.balance("alice") == "9.10"


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart", "json"])
def test_body_value_wins_over_query_value(shop: Shop, encoding: str) -> None:
    query = {"key": "not-a-key", "action": "balance", "quantity": "100", "link": "https://x.test/query"}
    response = shop.send("POST", params=query, **ENCODINGS[encoding](shop.order(quantity=3000)))
    assert answer_of(response) == {"order": 1}
    assert shop.charge_of(1) == "2.70"
    assert shop.panel.call(shop.key, "status", order=1)["remains"] == "3000"
    assert shop.panel.balance("alice") == "7.30"
    assert shop.panel.run(lambda db: orders.list_orders(db, username=None, status=None, limit=10))[0][0].link == (
        "https://x.test/p"
    )


def _place(shop: Shop, count: int) -> list[int]:
    ids = [
        shop.panel.call(shop.key, "add", service=shop.service, link=f"https://x.test/{n}", quantity=100)["order"]
        for n in range(count)
    ]
    assert ids == list(range(1, count + 1))
    return ids


def _pending(charge: str = "0.09") -> dict[str, str]:
    return {"charge": charge, "start_count": "0", "status": "Pending", "remains": "100", "currency": "USD"}


LIST_FORMS: dict[str, Callable[[Shop], dict[str, Any]]] = {
    "comma-string": lambda shop: {"data": {"key": shop.key, "action": "status", "orders": " 1, 2 ,3,2,,99 "}},
    "comma-string-in-query": lambda shop: {"params": {"key": shop.key, "action": "status", "orders": "1,2,3,99"}},
    "json-array-of-numbers": lambda shop: {"json": {"key": shop.key, "action": "status", "orders": [1, 2, 3, 2, 99]}},
    "json-array-of-strings": lambda shop: {
        "json": {"key": shop.key, "action": "status", "orders": ["1", "2", "3", "99"]}
    },
    "json-comma-string": lambda shop: {"json": {"key": shop.key, "action": "status", "orders": "1,2,3,99"}},
    "repeated-form-fields": lambda shop: {
        "data": {"key": shop.key, "action": "status", "orders[]": ["1", "2", "3", "2", "99"]},
    },
    "repeated-multipart-fields": lambda shop: {
        "files": multipart(
            [("key", shop.key), ("action", "status")] + [("orders[]", n) for n in ("1", "2", "3", "2", "99")]
        ),
    },
    "repeated-query-fields": lambda shop: {
        "params": [("key", shop.key), ("action", "status")] + [("orders[]", n) for n in ("1", "2", "3", "99")],
    },
}


@pytest.mark.parametrize("form", list(LIST_FORMS))
def test_list_parameter_forms(shop: Shop, form: str) -> None:
    _place(shop, 3)
    answer = answer_of(shop.send("POST", **LIST_FORMS[form](shop)))
    assert answer == {"1": _pending(), "2": _pending(), "3": _pending(), "99": {"error": "Incorrect order ID"}}
    assert list(answer) == ["1", "2", "3", "99"]


def test_list_parameter_forms_for_cancel(shop: Shop) -> None:
    _place(shop, 3)
    answer = answer_of(shop.send(json={"key": shop.key, "action": "cancel", "orders": [1, 2]}))
    assert answer == [{"order": 1, "cancel": 1}, {"order": 2, "cancel": 1}]
    answer = answer_of(shop.send(data={"key": shop.key, "action": "cancel", "orders[]": ["3", "1"]}))
    assert answer == [
        {"order": 3, "cancel": 1},
        {"order": 1, "cancel": {"error": "Cancel not available for this order"}},
    ]
    assert shop.panel.balance("alice") == "10.00"
    assert shop.panel.ledger_ok()


def test_a_hundred_ids_are_accepted_and_a_hundred_and_one_refused(shop: Shop) -> None:
    _place(shop, 1)
    hundred = ",".join(str(n) for n in range(1, 101))
    answer = shop.panel.call(shop.key, "status", orders=hundred)
    assert len(answer) == 100
    assert answer["1"] == _pending()
    assert answer["100"] == {"error": "Incorrect order ID"}
    assert shop.panel.call(shop.key, "status", orders=hundred + ",101") == {"error": "Too many ids (max 100)"}
    # duplicates count once: 100 distinct ids written 200 times is fine
    assert len(shop.panel.call(shop.key, "status", orders=hundred + "," + hundred)) == 100


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"key": "wrong", "action": "balance"}, {"error": "Invalid API key"}),
        ({"action": "balance"}, {"error": "Invalid API key"}),
        ({"key": "KEY"}, {"error": "Incorrect request"}),
        ({"key": "KEY", "action": "nonsense"}, {"error": "Incorrect request"}),
        ({"key": "KEY", "action": "status", "order": "5"}, {"error": "Incorrect order ID"}),
        (
            {"key": "KEY", "action": "add", "service": "77", "link": "https://x.test", "quantity": "100"},
            {"error": "Incorrect service ID"},
        ),
    ],
)
def test_api_errors_are_json_with_http_200(shop: Shop, fields: dict[str, str], expected: dict[str, str]) -> None:
    fields = {name: shop.key if value == "KEY" else value for name, value in fields.items()}
    for method, request in (("POST", {"data": fields}), ("GET", {"params": fields}), ("POST", {"json": fields})):
        assert answer_of(shop.send(method, **request)) == expected
    assert_untouched(shop)


def test_unknown_extra_parameters_are_ignored(shop: Shop) -> None:
    extra = {"api_token": "x", "format": "xml", "Key": "other", "orders": "1,2", "foo[]": "bar", "": "empty"}
    assert answer_of(shop.send(data=shop.order(quantity=1000, **extra))) == {"order": 1}
    assert answer_of(shop.send(json=shop.order(quantity=1000, nested={"a": [1, {"b": None}]}, flag=True))) == {
        "order": 2
    }
    assert shop.panel.balance("alice") == "8.20"
    assert shop.panel.call(shop.key, "balance", currency="EUR", junk="\x00") == {"balance": "8.20", "currency": "USD"}


def test_parameter_names_are_matched_exactly(shop: Shop) -> None:
    response = shop.send(data={"KEY": shop.key, "Action": "balance"})
    assert answer_of(response) == {"error": "Invalid API key"}
    response = shop.send(data={"key": shop.key, "ACTION": "balance"})
    assert answer_of(response) == {"error": "Incorrect request"}


# ---------------------------------------------------------------- bad input


Request = Callable[[Shop], dict[str, Any]]


def _form_add(**fields: Any) -> Request:
    return lambda shop: {"data": shop.order(**fields)}


def _json_add(**fields: Any) -> Request:
    return lambda shop: {"json": shop.order(**fields)}


BAD_QUANTITIES: dict[str, tuple[Request, str]] = {
    "letters": (_form_add(quantity="abc"), "Incorrect quantity"),
    "empty": (_form_add(quantity=""), "Incorrect quantity"),
    "missing": (_form_add(), "Incorrect quantity"),
    "negative": (_form_add(quantity="-1000"), "Incorrect quantity"),
    "plus-sign": (_form_add(quantity="+1000"), "Incorrect quantity"),
    "fraction": (_form_add(quantity="1000.5"), "Incorrect quantity"),
    "decimal-comma": (_form_add(quantity="1000,5"), "Incorrect quantity"),
    "exponent": (_form_add(quantity="1e3"), "Incorrect quantity"),
    "hex": (_form_add(quantity="0x3e8"), "Incorrect quantity"),
    "huge": (_form_add(quantity=str(10**30)), "Incorrect quantity"),
    "int64-overflow": (_form_add(quantity=str(2**63)), "Incorrect quantity"),
    "eighteen-nines": (_form_add(quantity="9" * 18), "Quantity more than maximum 10000"),
    "zero": (_form_add(quantity="0"), "Quantity less than minimal 50"),
    "below-min": (_form_add(quantity="49"), "Quantity less than minimal 50"),
    "above-max": (_form_add(quantity="10001"), "Quantity more than maximum 10000"),
    "json-negative": (_json_add(quantity=-1000), "Incorrect quantity"),
    "json-fraction": (_json_add(quantity=1000.5), "Incorrect quantity"),
    "json-huge": (_json_add(quantity=10**30), "Incorrect quantity"),
    "json-huge-string": (_json_add(quantity=str(10**30)), "Incorrect quantity"),
    "json-null": (_json_add(quantity=None), "Incorrect quantity"),
    "json-object": (_json_add(quantity={"n": 1000}), "Incorrect quantity"),
    "json-two-numbers": (_json_add(quantity=[500, 500]), "Incorrect quantity"),
    "json-false": (_json_add(quantity=False), "Quantity less than minimal 50"),
}

BAD_TYPES: dict[str, tuple[Request, str]] = {
    "service-letters": (_form_add(service="abc", quantity=1000), "Incorrect service ID"),
    "service-negative": (_form_add(service="-1", quantity=1000), "Incorrect service ID"),
    "service-fraction": (_form_add(service="1.0", quantity=1000), "Incorrect service ID"),
    "service-zero": (_form_add(service="0", quantity=1000), "Incorrect service ID"),
    "service-huge": (_form_add(service=str(10**30), quantity=1000), "Incorrect service ID"),
    "service-eighteen-nines": (_form_add(service="9" * 18, quantity=1000), "Incorrect service ID"),
    "json-service-object": (_json_add(service={"id": 1}, quantity=1000), "Incorrect service ID"),
    "json-service-float": (_json_add(service=1.5, quantity=1000), "Incorrect service ID"),
    "json-service-huge": (_json_add(service=10**30, quantity=1000), "Incorrect service ID"),
    "json-link-object": (_json_add(link={"url": "https://x.test"}, quantity=1000), "Incorrect link"),
    "json-link-null": (_json_add(link=None, quantity=1000), "Incorrect link"),
    "link-too-long": (_form_add(link="https://x.test/" + "a" * 5000, quantity=1000), "Incorrect link"),
    "json-key-number": (lambda shop: {"json": {**shop.order(quantity=1000), "key": 12345}}, "Invalid API key"),
    "json-key-object": (
        lambda shop: {"json": {**shop.order(quantity=1000), "key": {"k": shop.key}}},
        "Invalid API key",
    ),
    "json-key-null": (lambda shop: {"json": {**shop.order(quantity=1000), "key": None}}, "Invalid API key"),
    "json-key-true": (lambda shop: {"json": {**shop.order(quantity=1000), "key": True}}, "Invalid API key"),
    "json-action-number": (lambda shop: {"json": {**shop.order(quantity=1000), "action": 1}}, "Incorrect request"),
    "json-action-object": (
        lambda shop: {"json": {**shop.order(quantity=1000), "action": {"a": "add"}}},
        "Incorrect request",
    ),
    "runs-letters": (_form_add(quantity=1000, runs="x", interval="5"), "Incorrect runs"),
    "runs-negative": (_form_add(quantity=1000, runs="-2", interval="5"), "Incorrect runs"),
    "runs-huge": (_form_add(quantity=1000, runs=str(10**30), interval="5"), "Incorrect runs"),
    "interval-fraction": (_form_add(quantity=1000, runs="2", interval="0.5"), "Incorrect interval"),
    "interval-huge": (_form_add(quantity=1000, runs="2", interval=str(10**30)), "Incorrect interval"),
}


@pytest.mark.parametrize("case", list(BAD_QUANTITIES) + list(BAD_TYPES))
def test_wrong_values_and_types_change_nothing(shop: Shop, case: str) -> None:
    request, error = {**BAD_QUANTITIES, **BAD_TYPES}[case]
    assert answer_of(shop.send("POST", **request(shop))) == {"error": error}
    assert_untouched(shop)


def test_wrong_values_in_a_get_change_nothing(shop: Shop) -> None:
    for quantity in ("-5", "1.5", str(10**30), "1e3", ""):
        assert answer_of(shop.send("GET", params=shop.order(quantity=quantity))) == {"error": "Incorrect quantity"}
    assert_untouched(shop)


@pytest.mark.parametrize("token", ["abc", "-1", "0", "1.0", str(10**30), "9" * 19, "1e2", " "])
def test_malformed_order_ids_are_incorrect_order_ids(shop: Shop, token: str) -> None:
    _place(shop, 1)
    for action, parameter in (("status", "order"), ("refill", "order"), ("refill_status", "refill")):
        expected = "Refill not found" if action == "refill_status" else "Incorrect order ID"
        assert shop.panel.call(shop.key, action, **{parameter: token}) == {"error": expected}
    answer = shop.panel.call(shop.key, "status", orders=f"1,{token}")
    assert answer["1"] == _pending()
    if token.strip():
        assert answer[token] == {"error": "Incorrect order ID"}
    answer = shop.panel.call(shop.key, "cancel", order=token)
    assert answer in ({"error": "Incorrect order ID"}, [{"order": token, "cancel": {"error": "Incorrect order ID"}}])
    assert_untouched(shop, balance="9.91", order_count=1)
    assert shop.panel.call(shop.key, "status", order=1) == _pending()


TEN_THOUSAND = [str(n) for n in range(1, 10_001)]


@pytest.mark.parametrize("action", ["status", "cancel", "refill", "refill_status"])
@pytest.mark.parametrize("form", ["comma-string", "json-array", "repeated-fields"])
def test_ten_thousand_ids_are_refused(shop: Shop, action: str, form: str) -> None:
    _place(shop, 2)
    name = "refills" if action == "refill_status" else "orders"
    fields: dict[str, Any] = {"key": shop.key, "action": action}
    if form == "comma-string":
        request: dict[str, Any] = {"data": {**fields, name: ",".join(TEN_THOUSAND)}}
    elif form == "json-array":
        request = {"json": {**fields, name: [int(n) for n in TEN_THOUSAND]}}
    else:
        request = {"data": {**fields, f"{name}[]": TEN_THOUSAND}}
    assert answer_of(shop.send("POST", **request)) == {"error": "Too many ids (max 100)"}
    assert_untouched(shop, balance="9.82", order_count=2)
    assert shop.panel.call(shop.key, "status", orders="1,2") == {"1": _pending(), "2": _pending()}


def _big_chunks(total: int, chunk: bytes) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield chunk
        sent += len(chunk)


BIG_BODIES: dict[str, Request] = {
    "urlencoded": lambda shop: {"data": {**shop.order(quantity=1000), "comments": "x" * BIG}},
    "json": lambda shop: {"json": {**shop.order(quantity=1000), "comments": "x" * BIG}},
    "multipart": lambda shop: {"files": multipart({**shop.order(quantity=1000), "comments": "x" * BIG})},
    "text-xml": lambda shop: {"content": b"<x>" + b"a" * BIG + b"</x>", "headers": {"content-type": "text/xml"}},
    "chunked-urlencoded": lambda shop: {
        "content": _big_chunks(BIG, b"a" * 65536),
        "params": shop.order(quantity=1000),
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
    "chunked-json": lambda shop: {
        "content": _big_chunks(BIG, b" " * 65536),
        "params": shop.order(quantity=1000),
        "headers": {"content-type": "application/json"},
    },
}


@pytest.mark.parametrize("case", list(BIG_BODIES))
def test_ten_megabyte_body_is_refused_with_413(shop: Shop, case: str) -> None:
    request = BIG_BODIES[case](shop)
    response = shop.send("POST", **request)
    if case.startswith("chunked"):
        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
    else:
        assert int(response.request.headers["content-length"]) > BIG
    assert answer_of(response, status_code=413) == TOO_LARGE
    assert_untouched(shop)


def test_a_body_just_under_the_limit_is_read(shop: Shop) -> None:
    padding = 1_048_576 - 2000
    response = shop.send("POST", data={**shop.order(quantity=1000), "padding": "x" * padding})
    assert answer_of(response) == {"order": 1}
    assert shop.panel.balance("alice") == "9.10"


def _multipart_with_raw_link(shop: Shop, link: bytes) -> dict[str, Any]:
    fields = [(name, str(value).encode()) for name, value in shop.order(quantity=1000).items() if name != "link"]
    body, content_type = multipart_raw([*fields, ("link", link)])
    return {"content": body, "headers": {"content-type": content_type}}


INVALID_UTF8: dict[str, Request] = {
    "urlencoded-raw-bytes": lambda shop: {
        "content": f"key={shop.key}&action=add&service={shop.service}&quantity=1000&link=https://x.test/".encode()
        + b"\xff\xfe",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
    "urlencoded-percent-escapes": lambda shop: {
        "content": f"key={shop.key}&action=add&service={shop.service}&quantity=1000&link=https://x.test/%FF%C0".encode(),
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
    "urlencoded-overlong-slash": lambda shop: {
        "content": f"key={shop.key}&action=add&service={shop.service}&quantity=1000&link=https://x.test/%C0%AF".encode(),
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
    "urlencoded-surrogate": lambda shop: {
        "content": f"key={shop.key}&action=add&service={shop.service}&quantity=1000&link=https://x.test/%ED%A0%80".encode(),
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
    "query-string": lambda shop: {
        "params": {"key": shop.key, "action": "add", "service": shop.service, "quantity": 1000},
        "url": shop.url + "?link=https://x.test/%FF",
    },
    "json-raw-bytes": lambda shop: {
        "content": json.dumps(shop.order(quantity=1000, link="https://x.test/LINK")).encode().replace(b"LINK", b"\xff"),
        "headers": {"content-type": "application/json"},
    },
    "json-lone-surrogate": lambda shop: {
        "content": json.dumps(shop.order(quantity=1000, link="https://x.test/LINK"))
        .encode()
        .replace(b"LINK", b"\\ud800"),
        "headers": {"content-type": "application/json"},
    },
    "multipart-raw-bytes": lambda shop: _multipart_with_raw_link(shop, b"https://x.test/\xff\xfe"),
}


@pytest.mark.parametrize("case", list(INVALID_UTF8))
def test_invalid_utf8_is_refused_and_changes_nothing(shop: Shop, case: str) -> None:
    request = INVALID_UTF8[case](shop)
    url = request.pop("url", None)
    answer = answer_of(shop.send("POST", url, **request))
    assert set(answer) == {"error"}
    assert answer["error"] in (NOT_UTF8["error"], NOT_JSON["error"], "Incorrect link")
    assert_untouched(shop)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[1, 2]", NOT_OBJECT),
        (b'["key", "action"]', NOT_OBJECT),
        (b'"balance"', NOT_OBJECT),
        (b"42", NOT_OBJECT),
        (b"-1.5e3", NOT_OBJECT),
        (b"null", NOT_OBJECT),
        (b"true", NOT_OBJECT),
        (b'{"key": ', NOT_JSON),
        (b"{key: 1}", NOT_JSON),
        (b'{"action": "balance"}}', NOT_JSON),
        (b"{'action': 'balance'}", NOT_JSON),
        (b'{"action": NaN}', NOT_JSON),
        (b'{"quantity": 1e400}', NOT_JSON),
        (b"action=balance", NOT_JSON),
        (b"\x00\x00\x00", NOT_JSON),
        (b"\xef\xbb\xbf{}", NOT_JSON),
    ],
)
def test_json_that_is_not_an_object_or_malformed(shop: Shop, body: bytes, expected: dict[str, str]) -> None:
    # key and action in the query: a parser that gave up on the body silently would answer the balance
    response = shop.send(
        "POST",
        params={"key": shop.key, "action": "balance"},
        content=body,
        headers={"content-type": "application/json"},
    )
    assert answer_of(response) == expected
    assert_untouched(shop)


@pytest.mark.parametrize(
    "content_type",
    ["text/xml", "application/xml", "text/plain", "application/octet-stream", "image/png", "application/x-msgpack"],
)
def test_unknown_content_type_is_refused(shop: Shop, content_type: str) -> None:
    body = f"<order><key>{shop.key}</key><action>add</action></order>".encode()
    response = shop.send("POST", params=shop.order(quantity=1000), content=body, headers={"content-type": content_type})
    assert answer_of(response) == {"error": f"Unsupported content type {content_type!r}"}
    assert_untouched(shop)


def test_malformed_multipart_is_refused(shop: Shop) -> None:
    for body, content_type in (
        (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b"),
        (b"key=x", "multipart/form-data"),
        (b"--b\r\n garbage without headers", "multipart/form-data; boundary=b"),
    ):
        response = shop.send(
            "POST", params=shop.order(quantity=1000), content=body, headers={"content-type": content_type}
        )
        answer = answer_of(response)
        assert answer == {"error": "Malformed request: unreadable multipart body"}, body
    assert_untouched(shop)


@pytest.mark.parametrize(
    "content_type", [None, "application/x-www-form-urlencoded", "application/json", "multipart/form-data"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_empty_request(shop: Shop, content_type: str | None, method: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    for body in (b"", b"   \r\n"):
        response = shop.send(method, content=body, headers=headers)
        assert answer_of(response) == {"error": "Invalid API key"}
    assert_untouched(shop)


CONTROL_LINKS = {
    "nul": "https://x.test/a\x00b",
    "nul-only": "\x00",
    "trailing-nul": "https://x.test/a\x00",
    "bell": "https://x.test/\x07",
    "escape": "https://x.test/\x1b[31m",
    "unit-separator": "https://x.test/a\x1fb",
    "newline": "https://x.test/a\nb",
    "carriage-return": "https://x.test/a\rb",
    "tab": "https://x.test/a\tb",
    "delete": "https://x.test/a\x7fb",
    "c1-csi": "https://x.test/a\x9bb",
    "spaces-only": "   ",
}


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart", "json"])
@pytest.mark.parametrize("case", list(CONTROL_LINKS))
def test_control_characters_in_link_are_refused(shop: Shop, case: str, encoding: str) -> None:
    response = shop.send("POST", **ENCODINGS[encoding](shop.order(quantity=1000, link=CONTROL_LINKS[case])))
    assert answer_of(response) == {"error": "Incorrect link"}
    assert_untouched(shop)


@pytest.mark.parametrize("parameter", ["key", "action", "service", "quantity", "runs", "interval"])
def test_nul_bytes_in_other_parameters_change_nothing(shop: Shop, parameter: str) -> None:
    _place(shop, 1)
    fields = {**shop.order(quantity=1000), parameter: "1\x00"}
    for request in ({"data": fields}, {"json": fields}, {"files": multipart(fields)}, {"params": fields}):
        answer = answer_of(shop.send("POST", **request))
        assert set(answer) == {"error"}, answer
    assert_untouched(shop, balance="9.91", order_count=1)


def test_nul_bytes_in_order_ids_are_incorrect_order_ids(shop: Shop) -> None:
    _place(shop, 1)
    for request in ({"data": {"orders": "1,1\x00"}}, {"json": {"orders": ["1", "1\x00"]}}):
        answer = answer_of(
            shop.send(
                "POST", **{kind: {"key": shop.key, "action": "status", **fields} for kind, fields in request.items()}
            )
        )
        assert answer == {"1": _pending(), "1\x00": {"error": "Incorrect order ID"}}
    assert shop.panel.call(shop.key, "status", order="1\x00") == {"error": "Incorrect order ID"}
    assert shop.panel.call(shop.key, "cancel", orders="\x00") == [
        {"order": "\x00", "cancel": {"error": "Incorrect order ID"}}
    ]
    assert_untouched(shop, balance="9.91", order_count=1)


@pytest.mark.parametrize("text", ["a\x00b\nc\x00", "\x00\x01\x02\n\x7f\n\x1b"])
def test_nul_bytes_in_free_text_fields_never_crash(shop: Shop, text: str) -> None:
    """Comments and usernames are stored as given; whatever the answer, it is JSON and the money adds up."""
    comments = shop.panel.service(type=ServiceType.CUSTOM_COMMENTS, rate="1.00", min=1, max=100)
    mentions = shop.panel.service(type=ServiceType.MENTIONS_USER_FOLLOWERS, rate="1.00", min=10, max=100)
    answers = [
        answer_of(shop.send(data={**shop.order(), "service": comments, "comments": text})),
        answer_of(shop.send(json={**shop.order(), "service": comments, "comments": text})),
        answer_of(shop.send(data={**shop.order(), "service": mentions, "quantity": 10, "username": text})),
    ]
    placed = [answer["order"] for answer in answers if "order" in answer]
    assert all(set(answer) in ({"order"}, {"error"}) for answer in answers), answers
    assert shop.order_count() == len(placed)
    for order_id in placed:
        assert shop.panel.call(shop.key, "status", order=order_id)["status"] == "Pending"
    assert shop.panel.ledger_ok()
    assert shop.panel.call(shop.key, "balance")["currency"] == "USD"


def test_server_survives_a_burst_of_bad_requests(shop: Shop) -> None:
    """All the bad input above in one sequence, on one keep-alive client: still answering, nothing changed."""
    requests: list[dict[str, Any]] = [
        {"content": b"\xff" * 100, "headers": {"content-type": "application/x-www-form-urlencoded"}},
        {"content": b"[", "headers": {"content-type": "application/json"}},
        {"content": b"<a/>", "headers": {"content-type": "text/xml"}},
        {"data": {"key": shop.key, "action": "status", "orders": ",".join(TEN_THOUSAND)}},
        {"content": b"x" * BIG, "headers": {"content-type": "application/x-www-form-urlencoded"}},
        {"content": _big_chunks(BIG, b"y" * 65536), "headers": {"content-type": "application/json"}},
        {"json": shop.order(quantity=10**30)},
        {"data": shop.order(quantity=1000, link="\x00")},
    ]
    for _ in range(3):
        for request in requests:
            response = shop.send("POST", **request)
            assert response.status_code in (200, 413)
            assert set(answer_of(response, response.status_code)) == {"error"}
    assert_untouched(shop)
    assert answer_of(shop.send(data=shop.order(quantity=1000))) == {"order": 1}


def test_a_client_hanging_up_mid_body_is_no_server_error(shop: Shop, caplog: pytest.LogCaptureFixture) -> None:
    url = httpx.URL(shop.url)
    body = f"key={shop.key}&action=add&service={shop.service}&link=https://x.test/p&quantity=1000".encode()
    head = (
        f"POST {url.path} HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body) + 100}\r\n\r\n"
    ).encode()
    with caplog.at_level(logging.INFO, logger="smmpanel"):
        with socket.create_connection((url.host, url.port)) as sock:
            sock.sendall(head + body[:20])  # then the client is gone, the rest of the body never comes
        wait_for(lambda: any("disconnected" in r.getMessage() for r in caplog.records), "the server to notice")
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
    assert shop.order_count() == 0
    assert shop.send(data=shop.order(quantity=1000)).json() == {"order": 1}
