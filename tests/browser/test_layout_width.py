"""Every dashboard page, at a phone's 390×844 and a desktop's 1280×800: never wider than the screen.

The pages come from the router itself (every GET route of the dashboard's app), so a page added
later is checked too; a route with a path parameter needs an id in ``IDS`` (the test says so),
and a route that is not a page names why in ``NOT_PAGES``. An operator who may do everything
and a customer with orders, a drip-feed, a refill, a ticket and a payment load them, so that
tables have rows; a visitor loads the public pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page
from starlette.routing import Mount, Route

from smmpanel.app import create_app
from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, orders, providers, refills, tickets
from tests.browser.conftest import log_in
from tests.support.deposits import bank, deposit, submitted
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
NOT_PAGES = {
    "/theme.css": "a stylesheet (the branding's colours)",
    "/favicon.ico": "an image",
    "/brand/logo": "an image (404 until one is uploaded)",
    "/admin/reports/export": "a CSV download",
}
"""GET routes that are no page: nothing to measure."""
LONG_LINK = "https://www.instagram.com/p/Cz0123456789abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOP/?igshid=" + "x" * 60
WIDER = "document.documentElement.scrollWidth - window.innerWidth"


@dataclass(frozen=True)
class Site:
    base_url: str
    ids: dict[str, int | str]
    """Path prefix → the id its ``{param}`` takes (the longest matching prefix wins)."""


def page_routes() -> list[str]:
    """Every GET path of the dashboard (the app mounted at the root), from the router."""
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", run_engine=False))
    dashboard = next(route.app for route in app.routes if isinstance(route, Mount) and route.path == "")
    paths = []
    for route in dashboard.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route) and "GET" in (route.methods or ()) and route.path not in NOT_PAGES:
            paths.append(route.path)
    return sorted(set(paths))


def address(template: str, ids: dict[str, int | str]) -> str:
    if "{" not in template:
        return template
    prefixes = sorted((p for p in ids if template.startswith(p + "/")), key=len, reverse=True)
    assert prefixes, f"{template}: add an id for it to the width test's set-up (Site.ids)"
    return re.sub(r"\{(\w+)(?::\w+)?\}", str(ids[prefixes[0]]), template)


@pytest.fixture
def site(start_server: Callable[..., LiveServer], database_url: str) -> Iterator[Site]:
    server = start_server()
    panel = Panel(database_url, server.api_url)

    async def set_up(db: Database) -> dict[str, int | str]:
        await accounts.create_customer(db, "boss", password=PASSWORD, admin=True)
        await accounts.create_customer(db, "alice", parse_amount("250"), password=PASSWORD)
        alice = next(user for user in await accounts.list_customers(db) if user.username == "alice")
        provider = await providers.add_provider(db, "upstream", "http://127.0.0.1:9/api/v2", "key")
        return {"/admin/customers": alice.id, "/admin/providers": provider, "/admin/gateways": "bank"}

    ids = panel.run(set_up)
    bank(panel)
    deposit(panel, "alice", "20")
    pending = submitted(panel, "alice", "10").id
    ids.update({"/admin/payments": pending, "/funds/payments": pending})
    service = panel.service(name="Instagram Followers [Real, Refill 30 days, 10K/day]", rate="0.90")
    panel.service(name="Views", category="TikTok Views, Worldwide, Instant Start", rate="0.05", min=100, max=100000)
    alice = next(user for user in panel.run(accounts.list_customers) if user.username == "alice")

    async def orders_and_tickets(db: Database) -> dict[str, int | str]:
        base = {"service": str(service), "link": LONG_LINK, "quantity": "1000"}
        order = await orders.place_order(db, alice.id, base)
        done = await orders.place_order(db, alice.id, base)
        await orders.update_order(db, done, orders.OrderUpdate(status=OrderStatus.COMPLETED))
        await orders.place_order(db, alice.id, {**base, "quantity": "100", "runs": "5", "interval": "30"})
        refill = (await refills.request_refills(db, alice.id, [done]))[done]
        ticket = await tickets.open_ticket(db, alice.id, "Order is slow", "It has not started yet.\n\n" + LONG_LINK)
        return {
            "/orders": order,
            "/admin/orders": order,
            "/admin/attention": order,
            "/refills": refill,
            "/admin/refills": refill,
            "/tickets": ticket,
            "/admin/tickets": ticket,
            "/admin/services": service,
        }

    ids.update(panel.run(orders_and_tickets))
    yield Site(server.base_url, ids)
    panel.close()


def overflowing(browser: Browser, site: Site, paths: list[str], username: str | None) -> list[str]:
    """The pages wider than the viewport, as 'path at size: N px too wide'."""
    found = []
    for size, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        page: Page = context.new_page()
        page.set_default_timeout(15_000)
        if username:
            log_in(page, site.base_url, username, PASSWORD)
            page.wait_for_load_state()
        for path in paths:
            page.goto(site.base_url + address(path, site.ids))
            wider = page.evaluate(WIDER)
            if wider > 0:
                found.append(f"{path} at {size}: {wider} px too wide ({page.url})")
        context.close()
    return found


def test_no_page_is_wider_than_a_phone_or_a_desktop_screen(browser: Browser, site: Site) -> None:
    paths = page_routes()
    admin = [path for path in paths if path == "/admin" or path.startswith("/admin/")]
    customer = [path for path in paths if path not in admin]
    assert {"/orders", "/funds", "/api", "/admin/services", "/contact"} <= set(paths)
    problems = overflowing(browser, site, admin, "boss")
    problems += overflowing(browser, site, customer, "alice")
    problems += overflowing(browser, site, ["/login", "/signup", "/forgot-password", "/contact", "/terms"], None)
    assert not problems, "\n".join(problems)
