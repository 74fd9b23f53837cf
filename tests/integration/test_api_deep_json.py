"""A JSON API body nested hundreds or thousands deep is a malformed request: the API's clean
``{"error": ...}`` with HTTP 200, no fault logged, nothing changed."""

from __future__ import annotations

import logging

import pytest

from tests.support.panel import Panel

NESTED = {"error": "Malformed request: JSON nested too deeply"}


def nested_body(key: str, action: str, name: str, depth: int) -> bytes:
    inner = b"[" * depth + b"1" + b"]" * depth
    return b'{"key": "%s", "action": "%s", "%s": %s}' % (key.encode(), action.encode(), name.encode(), inner)


@pytest.mark.parametrize("depth", [300, 10_000])
@pytest.mark.parametrize(("action", "name"), [("status", "orders"), ("cancel", "orders"), ("add", "link")])
def test_a_deeply_nested_list_parameter_gets_the_apis_error(
    panel: Panel, caplog: pytest.LogCaptureFixture, depth: int, action: str, name: str
) -> None:
    key = panel.customer("alice", "10")
    service = panel.service()
    with caplog.at_level(logging.WARNING):
        response = panel.http.post(
            panel.api_url or "",
            content=nested_body(key, action, name, depth),
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == NESTED
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert panel.call(key, "balance") == {"balance": "10.00", "currency": "USD"}
    order = panel.call(key, "add", service=service, link="https://x.test/p", quantity=100)
    assert order == {"order": 1}


def test_lists_nested_a_little_are_read_as_before(panel: Panel) -> None:
    key = panel.customer("alice", "10")
    response = panel.http.post(panel.api_url or "", json={"key": key, "action": "status", "orders": [[1], 2]})
    assert response.json() == {"[1]": {"error": "Incorrect order ID"}, "2": {"error": "Incorrect order ID"}}
