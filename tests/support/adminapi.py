"""Drive the admin API as fulfilment software does: JSON over HTTP with an ``X-Api-Key``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from smmpanel.usecases import admin_keys
from tests.support.panel import Panel
from tests.support.server import LiveServer

JSON_TYPE = "application/json; charset=utf-8"


def _no_floats(text: str) -> Any:
    raise AssertionError(f"a float in an admin API answer: {text}")


class AdminClient:
    def __init__(self, panel: Panel, key: str) -> None:
        assert panel.api_url is not None
        self.base_url = panel.api_url.removesuffix("/api/v2")
        self.key = key
        self.http = panel.http

    def request(self, method: str, path: str, body: Any = None, **query: Any) -> httpx.Response:
        headers = {"X-Api-Key": self.key}
        content = None if body is None else json.dumps(body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, self.base_url + path, params=query, content=content, headers=headers)

    def answer(self, method: str, path: str, body: Any = None, **query: Any) -> dict[str, Any]:
        """The whole envelope of an HTTP 200 JSON answer."""
        response = self.request(method, path, body, **query)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == JSON_TYPE
        envelope = json.loads(response.text, parse_float=_no_floats)
        assert isinstance(envelope, dict)
        return envelope

    def data(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        """``data`` of a successful answer."""
        envelope = self.answer(method, path, body, **query)
        assert (envelope["error_code"], envelope["error_message"]) == (0, ""), envelope
        return envelope["data"]

    def v1(self, action: str, **params: Any) -> dict[str, Any]:
        response = self.http.post(self.base_url + "/adminapi/v1", data={"key": self.key, "action": action, **params})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == JSON_TYPE
        answer = json.loads(response.text, parse_float=_no_floats)
        assert isinstance(answer, dict)
        return answer


def admin_key(panel: Panel, name: str = "bot", role: str = admin_keys.DEFAULT_ROLE) -> AdminClient:
    created = panel.run(lambda db: admin_keys.create_key(db, name, role))
    return AdminClient(panel, created.api_key)


@contextmanager
def admin_panel(database_url: str, start_server: Callable[..., LiveServer], **settings: object) -> Iterator[Panel]:
    """A live panel whose admin API is not rate limited (the limit has a test of its own).

    Whatever the test did, every balance must still equal the sum of its ledger entries.
    """
    driver = Panel(database_url, start_server(**{"admin_api_rate_limit": "off", **settings}).api_url)
    try:
        yield driver
        assert driver.ledger_ok()
    finally:
        driver.close()
