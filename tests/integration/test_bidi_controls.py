"""Bidirectional controls (U+202E and kin) would make the operator read a link or a name other
than the real one: refused in order links and usernames, wherever an order or an account comes in."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest

from smmpanel.domain.catalog import ServiceType
from smmpanel.errors import Refused
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.web import WebUser, logged_in

CONTROLS = ["\u202e", "\u202a", "\u202b", "\u202c", "\u202d", "\u200e", "\u200f", "\u2066", "\u2067", "\u2068"]
CONTROLS += ["\u2069", "\u061c"]
PASSWORD = "correct horse"


@pytest.fixture
def shop(panel: Panel) -> tuple[Panel, str]:
    return panel, panel.customer("alice", "10")


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_api_add_refuses_a_link_with_a_bidi_control(shop: tuple[Panel, str], control: str) -> None:
    panel, key = shop
    service = panel.service()
    link = f"https://instagram.com/p/{control}gnp.exe"
    assert panel.call(key, "add", service=service, link=link, quantity=100) == {"error": "Incorrect link"}
    assert panel.balance("alice") == "10.00"
    assert panel.call(key, "add", service=service, link="https://instagram.com/p/abc", quantity=100) == {"order": 1}


def test_api_add_refuses_usernames_with_a_bidi_control(shop: tuple[Panel, str]) -> None:
    panel, key = shop
    mentions = panel.service(name="Mentions", type=ServiceType.MENTIONS_USER_FOLLOWERS)
    custom = panel.service(name="Custom list", type=ServiceType.MENTIONS_CUSTOM_LIST, min=1)
    likes = panel.service(name="Likes", type=ServiceType.COMMENT_LIKES)
    subscriptions = panel.service(name="Subs", type=ServiceType.SUBSCRIPTIONS)
    link = "https://instagram.com/p/abc"
    spoofed = "\u202enimda"
    assert panel.call(key, "add", service=mentions, link=link, quantity=100, username=spoofed) == {
        "error": "Incorrect username"
    }
    assert panel.call(key, "add", service=likes, link=link, quantity=100, username=spoofed) == {
        "error": "Incorrect username"
    }
    assert panel.call(key, "add", service=custom, link=link, usernames=f"one\n{spoofed}") == {
        "error": "Incorrect usernames"
    }
    assert panel.call(key, "add", service=subscriptions, username=spoofed, min=100, max=200, delay=0) == {
        "error": "Incorrect username"
    }
    assert panel.balance("alice") == "10.00"


def test_the_dashboard_and_mass_orders_refuse_them(database_url: str, start_server: Callable[..., LiveServer]) -> None:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("10"), password=PASSWORD))
    service = panel.service()
    alice = logged_in(server.base_url, "alice", PASSWORD)
    spoofed = "https://x.test/\u202egnp.exe"
    refused = alice.post("/orders/new", service=str(service), link=spoofed, quantity="100")
    assert refused.status_code == 400 and "Incorrect link" in refused.text
    assert spoofed in html.unescape(refused.text)  # what was typed is shown again, to be corrected
    mass = alice.post("/orders/mass", orders=f"{service} | {spoofed} | 100", mark="m1")
    rows = re.findall(r"<tr class=\"(ok|refused)\">(.*?)</tr>", mass.text, re.S)
    assert [kind for kind, _ in rows] == ["refused"] and "Incorrect link" in rows[0][1]
    assert panel.balance("alice") == "10.00"
    alice.close()


@pytest.mark.parametrize("control", ["\u202e", "\u200f", "\u2066"])
def test_usernames_of_accounts_refuse_them(
    database_url: str, start_server: Callable[..., LiveServer], control: str
) -> None:
    server = start_server()
    panel = Panel(database_url)
    with pytest.raises(Refused, match="username must be"):
        panel.run(lambda db: accounts.create_customer(db, f"nimda{control}", password=PASSWORD))
    visitor = WebUser(server.base_url)
    fields = {"username": f"{control}nimda", "password": PASSWORD, "password_again": PASSWORD}
    answer = visitor.post("/signup", token_from="/signup", **fields)
    assert answer.status_code == 400 and "username must be" in answer.text
    assert panel.run(accounts.list_customers) == []
    visitor.close()


def test_a_username_with_a_trailing_newline_is_refused(database_url: str) -> None:
    with pytest.raises(Refused, match="username must be"):
        Panel(database_url).run(lambda db: accounts.create_customer(db, "alice\n"))
