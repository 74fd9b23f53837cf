"""The admin API on the dashboard: keys made and revoked there, pulled orders shown as being worked on."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.integration.test_web_admin import PASSWORD, Session, banner, followed
from tests.support.adminapi import AdminClient
from tests.support.panel import Panel
from tests.support.server import LiveServer


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[tuple[Panel, Session]]:
    """A live panel with a customer, and its operator logged in on the dashboard."""
    server = start_server(admin_api_rate_limit="off")
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("100")))
    boss = Session(server.base_url, "boss")
    yield panel, boss
    boss.close()
    assert panel.ledger_ok()
    panel.close()


def test_keys_are_made_once_used_and_revoked_on_the_dashboard(site: tuple[Panel, Session]) -> None:
    panel, boss = site
    made = boss.post("/admin/api-keys/create", name="telegram-bot", role="support")
    assert made.status_code == 200
    shown = re.search(r'<code class="secret">([A-Za-z0-9_-]+)</code>', made.text)
    assert shown is not None
    client = AdminClient(panel, shown.group(1))
    assert client.data("GET", "/adminapi/v2/users")["count"] == 2
    listing = boss.get("/admin/api-keys")
    assert "telegram-bot" in listing.text and shown.group(1) not in listing.text
    twice = boss.post("/admin/api-keys/create", name="telegram-bot")
    assert twice.status_code == 400
    assert banner(twice, "error") == "an admin API key named 'telegram-bot' already exists"
    assert 'value="telegram-bot"' in twice.text
    revoked = followed(boss, boss.post("/admin/api-keys/revoke", name="telegram-bot"))
    assert banner(revoked, "notice") == "Admin API key telegram-bot revoked."
    assert client.answer("GET", "/adminapi/v2/users")["error_code"] == 401


def test_a_pulled_order_is_shown_as_being_worked_on(site: tuple[Panel, Session]) -> None:
    panel, boss = site
    key = panel.run(lambda db: accounts.rotate_key(db, "alice")).api_key
    service = panel.service(name="Manual", rate="1.00", min=10, max=10000)
    order_id = panel.call(key, "add", service=service, link="https://x.test/a", quantity=100)["order"]
    made = boss.post("/admin/api-keys/create", name="fulfiller")
    shown = re.search(r'<code class="secret">([A-Za-z0-9_-]+)</code>', made.text)
    assert shown is not None
    client = AdminClient(panel, shown.group(1))
    assert "being worked on" not in boss.get(f"/admin/orders/{order_id}").text
    client.data("POST", "/adminapi/v2/orders/pull", {"service_ids": [service]})
    assert "being worked on by fulfiller" in boss.get(f"/admin/orders/{order_id}").text
    assert "being worked on by fulfiller" in boss.get("/admin/orders").text
    client.data("POST", "/adminapi/v2/orders/update", {"orders": [{"id": order_id, "status": "completed"}]})
    assert "being worked on" not in boss.get(f"/admin/orders/{order_id}").text
