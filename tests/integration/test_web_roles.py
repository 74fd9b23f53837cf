"""Every admin route, for every role, on both back ends: allowed or the same 404 as a missing page.

The routes come from the router itself, so a page added later is walked too (and must say which
permission it needs). A role without the permission gets 404 on GET and on a POST with a valid
token, and nothing changes; a role with it gets the page (GET) or reaches the form's CSRF check
(a POST without a token: 403), so the walk changes nothing either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smmpanel.domain.roles import GRANTS, Role
from smmpanel.money import format_amount, parse_amount
from smmpanel.usecases import accounts, desk, orders, payments, providers, settings, tickets
from smmpanel.usecases.gateways import add_gateway
from smmpanel.web import admin
from smmpanel.web.admin.access import AdminRoute
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.staff import PASSWORD, Browser

SUPPORT_NEVER = (
    "/admin/settings",
    "/admin/staff",
    "/fund",
    "/cancel",
    "/partial",
    "/payments",
    "/admin/services",
    "/audit",
)
"""Finance, settings and staff pages, named independently of the routes' declarations."""
ROLES = [Role.OWNER, Role.ADMIN, Role.SUPPORT, Role.FINANCE, Role.CUSTOMER]
LINK = "https://instagram.com/p/abc"


def walk() -> list[tuple[str, str, AdminRoute]]:
    """(path template, method, route) for every admin route and method."""
    found = []
    for route in admin.routes:
        assert isinstance(route, AdminRoute), f"{route} is not an AdminRoute: it names no permission"
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((route.path, method, route))
    return found


@pytest.fixture
def site(
    database_url: str, start_server: Callable[..., LiveServer]
) -> Iterator[tuple[Panel, LiveServer, dict[str, int | str]]]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    for role in ROLES:
        staff_role = None if role is Role.CUSTOMER else role
        panel.run(
            lambda db, r=role, s=staff_role: accounts.create_customer(db, f"{r}1", password=PASSWORD, staff_role=s)
        )
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("100")))
    alice = panel.run(lambda db: accounts.list_customers(db))[-1]
    service = panel.service()
    order = panel.run(
        lambda db: orders.place_order(db, alice.id, {"service": str(service), "link": LINK, "quantity": "100"})
    )
    ticket = panel.run(lambda db: tickets.open_ticket(db, alice.id, "Help", "Where is my order?"))
    provider = panel.run(lambda db: providers.add_provider(db, "up", "http://127.0.0.1:9/api/v2", "k"))
    staff = next(u for u in panel.run(accounts.list_customers) if u.username == "support1")
    panel.run(lambda db: add_gateway(db, "manual", "bank", options={}))
    transfer = panel.run(
        lambda db: payments.start_payment(
            db,
            payments.PaymentContext("http://127.0.0.1", "USD"),
            user_id=alice.id,
            gateway_name="bank",
            amount=parse_amount("10"),
            payer_reference="TX-1",
        )
    )
    canned = panel.run(lambda db: desk.save_canned_reply(db, "Thanks", "Thank you for waiting."))
    ids: dict[str, int | str] = {
        "/admin/requests-to-cancel": order,
        "/admin/canned-replies": canned,
        "/admin/customers": alice.id,
        "/admin/orders": order,
        "/admin/attention": order,
        "/admin/refills": order,
        "/admin/services": service,
        "/admin/tickets": ticket,
        "/admin/providers": provider,
        "/admin/staff": staff.id,
        "/admin/payments": transfer.payment.id,
        "/admin/gateways": "bank",
    }
    yield panel, server, ids
    panel.close()


def address(template: str, ids: dict[str, int | str]) -> str:
    prefix = next((p for p in ids if template.startswith(p + "/")), None)

    def fill(match: re.Match[str]) -> str:
        return "x" if match.group(2) == "str" else str(ids[prefix] if prefix else 1)

    return re.sub(r"\{(\w+)(?::(\w+))?\}", fill, template)


def state(panel: Panel) -> Any:
    """What a walk must never change: every user's balance, role and state, the panel's settings."""
    users = [
        (u.username, format_amount(u.balance), u.role, u.disabled, u.discount)
        for u in panel.run(accounts.list_customers)
    ]
    return users, panel.run(settings.get_funds_instructions)


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_every_admin_route_is_allowed_or_not_found_by_role(
    site: tuple[Panel, LiveServer, dict[str, int | str]], role: Role
) -> None:
    panel, server, ids = site
    before = state(panel)
    browser = Browser(server.base_url)
    assert browser.log_in(f"{role}1").status_code == 303
    browser.get("/account/password")  # a valid token for the forms
    granted = GRANTS[role]
    walked = walk()
    try:
        for template, method, route in walked:
            path = address(template, ids)
            allowed = route.permission in granted
            if role is Role.SUPPORT and any(part in template for part in SUPPORT_NEVER):
                assert not allowed, template
            if method == "POST":
                assert not route.permission.endswith(".read"), f"{template}: a form that changes things needs more"
            if method == "GET":
                status = browser.get(path).status_code
                assert status == (200 if allowed else 404), (role, method, path, status)
            elif allowed:
                status = browser.post(path, csrf=False).status_code
                assert status == 403, (role, method, path, status)  # reached the form's own check
            else:
                status = browser.post(path).status_code  # a valid token: still not found
                assert status == 404, (role, method, path, status)
    finally:
        browser.close()
    assert state(panel) == before
    assert len(walked) > 40


def test_the_nav_shows_only_what_the_role_may_open(site: tuple[Panel, LiveServer, dict[str, int | str]]) -> None:
    _, server, _ = site
    expected = {
        Role.OWNER: {"/admin", "/admin/customers", "/admin/settings", "/admin/staff", "/admin/audit", "/admin/tickets"},
        Role.SUPPORT: {"/admin/customers", "/admin/orders", "/admin/tickets"},
        Role.FINANCE: {"/admin", "/admin/customers", "/admin/orders"},
    }
    never = {
        Role.SUPPORT: {
            "/admin",
            "/admin/settings",
            "/admin/staff",
            "/admin/services",
            "/admin/providers",
            "/admin/audit",
        },
        Role.FINANCE: {"/admin/settings", "/admin/staff", "/admin/tickets", "/admin/services", "/admin/providers"},
        Role.OWNER: set(),
    }
    for role, shown in expected.items():
        browser = Browser(server.base_url)
        landing = browser.follow(browser.log_in(f"{role}1"))
        assert landing.status_code == 200
        nav = re.search(r'<nav class="menu">(.*?)</nav>', landing.text, re.S)
        assert nav is not None
        links = set(re.findall(r'href="([^"]+)"', nav.group(1)))
        assert shown <= links and not (never[role] & links), (role, links)
        browser.close()


def test_read_only_roles_see_no_forms_they_may_not_send(site: tuple[Panel, LiveServer, dict[str, int | str]]) -> None:
    _, server, ids = site
    pages = [f"/admin/orders/{ids['/admin/orders']}", f"/admin/customers/{ids['/admin/customers']}"]
    for role in (Role.SUPPORT, Role.FINANCE):
        browser = Browser(server.base_url)
        browser.log_in(f"{role}1")
        posts = set()
        for path in pages:
            page = browser.get(path)
            assert page.status_code == 200
            posts |= set(re.findall(r'<form method="post" action="([^"]+)"', page.text))
        allowed = {re.sub(r"/\d+", "/{id:int}", action) for action in posts if action not in ("/logout", "/language")}
        routes = {route.path: route.permission for route in admin.routes if isinstance(route, AdminRoute)}
        assert all(routes[path] in GRANTS[role] for path in allowed), (role, allowed)
        if role is Role.FINANCE:
            assert {"/admin/customers/{id:int}/fund", "/admin/orders/{id:int}/cancel"} <= allowed
        else:
            assert allowed == set()
        browser.close()
