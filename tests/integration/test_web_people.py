"""The operator manages customers: create (with an opening balance), reset a password, log in as one."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

import pytest

from smmpanel.domain.roles import Role
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, audit
from smmpanel.web import auth_routes, customer, impersonation, two_factor_routes
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.staff import PASSWORD, Browser

LINK = "https://instagram.com/p/abc"


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[tuple[Panel, LiveServer]]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    panel.run(lambda db: accounts.create_customer(db, "adam", password=PASSWORD, staff_role=Role.ADMIN))
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("100"), password=PASSWORD))
    yield panel, server
    panel.close()


def staff(server: LiveServer, name: str) -> Browser:
    browser = Browser(server.base_url)
    assert browser.log_in(name).status_code == 303
    browser.get("/admin/customers")
    return browser


def user(panel: Panel, username: str) -> accounts.Customer:
    return next(u for u in panel.run(accounts.list_customers) if u.username == username)


def actions(panel: Panel) -> list[tuple[str, str, str]]:
    entries = panel.run(lambda db: audit.audit_page(db, limit=500)).items
    return [(e.actor, e.action, e.target) for e in reversed(entries)]


def temporary_password(page: object) -> str:
    found = re.search(r'<pre id="temporary-password">([^<]+)</pre>', getattr(page, "text", ""))
    assert found is not None, getattr(page, "text", "")[:3000]
    return html.unescape(found.group(1))


def test_create_a_customer_with_an_opening_balance_and_reset_a_password(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    boss = staff(server, "boss")
    boss.get("/admin/customers/new")
    bad = boss.post("/admin/customers/new", username="newbie", balance="1.234567")
    assert bad.status_code == 400 and 'value="newbie"' in bad.text and "at most 5 decimals" in bad.text
    created = boss.post("/admin/customers/new", username="newbie", balance="25.5")
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    password = temporary_password(created)
    assert panel.balance("newbie") == "25.50" and panel.ledger_ok()
    _, entries = panel.run(lambda db: accounts.ledger_of(db, "newbie", 10))
    assert [(e.kind, e.amount, e.note) for e in entries] == [("topup", parse_amount("25.5"), "opening balance")]
    newbie = Browser(server.base_url)
    assert newbie.log_in("newbie", password).headers["location"] == "/orders/new"
    newbie.close()
    assert boss.post("/admin/customers/new", username="plain").status_code == 200  # no starting balance
    assert panel.balance("plain") == "0.00"
    duplicate = boss.post("/admin/customers/new", username="alice", balance="5")
    assert duplicate.status_code == 400 and "already exists" in duplicate.text and panel.balance("alice") == "100.00"

    alice_id = user(panel, "alice").id
    reset = boss.post(f"/admin/customers/{alice_id}/password")
    new_password = temporary_password(reset)
    alice = Browser(server.base_url)
    assert alice.log_in("alice").status_code == 400  # the old password no longer works
    assert alice.log_in("alice", new_password).status_code == 303
    alice.close()
    assert boss.post(f"/admin/customers/{user(panel, 'adam').id}/password").status_code == 404  # staff: not here
    boss.close()
    assert actions(panel) == [
        ("boss", "customer.create", "user newbie"),
        ("boss", "customer.create", "user plain"),
        ("boss", "customer.reset_password", "customer alice"),
    ]


def customer_forms() -> list[str]:
    """Every address a customer's session can post to (the read-only guard must refuse them all)."""
    found = []
    for route in [*customer.routes, *auth_routes.routes, *two_factor_routes.routes]:
        if "POST" in (getattr(route, "methods", None) or ()):
            found.append(re.sub(r"\{\w+:int\}", "1", getattr(route, "path", "")))
    return found


def test_log_in_as_a_customer_read_only_bannered_audited_and_back(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service()
    alice_id = user(panel, "alice").id
    adam = staff(server, "adam")
    started = adam.post(f"/admin/customers/{alice_id}/impersonate", write="1")  # only the owner may choose that
    assert started.headers["location"] == "/orders/new"
    page = adam.get("/orders/new")
    banner = re.search(r'id="impersonation-banner">(.*?)</div>', page.text, re.S)
    assert banner is not None and "adam is viewing the panel as alice" in banner.group(1)
    assert "read only" in banner.group(1) and 'id="back-to-admin"' in banner.group(1)
    assert "impersonation-banner" in adam.get("/orders").text  # on every page
    assert adam.get("/admin").status_code == 404  # this session is alice's now

    forms = customer_forms()
    assert "/orders/new" in forms and "/logout" in forms and len(forms) >= 10
    for path in forms:
        refused = adam.post(path, service=str(service), link=LINK, quantity="100", subject="x", message="y")
        assert refused.status_code == 403, path
        assert "nothing was changed" in html.unescape(refused.text), path
    assert panel.balance("alice") == "100.00" and panel.ledger_ok()

    back = adam.post(impersonation.END_PATH)
    assert back.headers["location"] == f"/admin/customers/{alice_id}"
    landing = adam.get(back.headers["location"])
    assert landing.status_code == 200 and "impersonation-banner" not in landing.text
    assert "You are back as adam" in landing.text
    assert adam.get("/admin").status_code == 200
    adam.close()
    assert actions(panel) == [
        ("adam", "customer.impersonate.start", "customer alice"),
        ("adam", "customer.impersonate.end", "customer alice"),
    ]
    staff_member = user(panel, "boss").id
    boss = staff(server, "boss")
    assert boss.post(f"/admin/customers/{staff_member}/impersonate").status_code == 404  # never as staff
    boss.close()
    adam = staff(server, "adam")
    refused = adam.post(f"/admin/customers/{staff_member}/disabled", disabled="1")  # an admin cannot lock out the owner
    assert refused.status_code == 400 and "Staff page" in html.unescape(refused.text)
    assert not user(panel, "boss").disabled
    adam.close()


def test_the_owner_may_choose_read_write(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    service = panel.service()
    boss = staff(server, "boss")
    boss.post(f"/admin/customers/{user(panel, 'alice').id}/impersonate", write="1")
    page = boss.get("/orders/new")
    assert "viewing the panel as alice" in page.text and "read only" not in page.text
    placed = boss.post("/orders/new", service=str(service), link=LINK, quantity="1000")
    assert placed.status_code == 303
    assert panel.balance("alice") == "99.10" and panel.ledger_ok()
    assert boss.post("/logout").status_code == 403  # the way out is Back to admin, so that the end is audited
    assert boss.follow(boss.post(impersonation.END_PATH)).status_code == 200
    assert [a for _, a, _ in actions(panel)] == ["customer.impersonate.start", "customer.impersonate.end"]
    entry = panel.run(lambda db: audit.audit_page(db, limit=5)).items[-1]
    assert entry.after == {"mode": "read-write"}
    boss.close()
