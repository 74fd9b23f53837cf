"""Staff in a real browser: two-factor enrolment and login, logging in as a customer and back."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.browser.conftest import log_in, screenshot
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.staff import PASSWORD, code_for


def test_staff_login_with_two_factor(page: Page, start_server: Callable[..., LiveServer], database_url: str) -> None:
    server = start_server()
    Panel(database_url).run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    log_in(page, server.base_url, "boss", PASSWORD)
    expect(page).to_have_url(f"{server.base_url}/admin")
    page.click("text=Two-factor")
    page.click("#start-two-factor")
    expect(page.locator("#qr svg")).to_be_visible()  # drawn by the panel, no outside service
    secret = page.locator("#totp-secret").inner_text()
    screenshot(page, "two-factor-enrolment")
    page.fill("#confirm-form input[name=code]", code_for(secret))
    page.click("#confirm-form button")
    expect(page.locator("#recovery-codes")).to_be_visible()
    assert len(page.locator("#recovery-codes").inner_text().split()) == 10
    page.click("text=Log out")

    log_in(page, server.base_url, "boss", PASSWORD)
    expect(page).to_have_url(f"{server.base_url}/login/code")
    page.goto(f"{server.base_url}/admin")  # the password alone opens nothing
    expect(page).to_have_url(re.compile(r"/login\?next="))
    log_in(page, server.base_url, "boss", PASSWORD)
    page.fill("#code-form input[name=code]", code_for(secret, steps_ahead=1))
    page.click("#code-form button")
    expect(page).to_have_url(f"{server.base_url}/admin")
    expect(page.locator("nav.menu")).to_contain_text("Staff")


def test_log_in_as_a_customer_and_back(page: Page, start_server: Callable[..., LiveServer], database_url: str) -> None:
    server = start_server()
    panel = Panel(database_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    panel.run(lambda db: accounts.create_customer(db, "alice", parse_amount("100"), password=PASSWORD))
    alice = next(u for u in panel.run(accounts.list_customers) if u.username == "alice")
    log_in(page, server.base_url, "boss", PASSWORD)
    page.goto(f"{server.base_url}/admin/customers/{alice.id}")
    page.click("#impersonate")
    expect(page).to_have_url(f"{server.base_url}/orders/new")
    banner = page.locator("#impersonation-banner")
    expect(banner).to_contain_text("boss is viewing the panel as alice (read only")
    expect(page.locator(".who")).to_contain_text("alice")
    screenshot(page, "impersonation-banner")
    page.click("text=Log out")  # a change like any other: refused while read only
    expect(page.locator("h1")).to_have_text("Read only")
    expect(page.locator("main")).to_contain_text("nothing was changed")
    page.click("#back-to-admin")
    expect(page).to_have_url(f"{server.base_url}/admin/customers/{alice.id}")
    expect(page.locator(".banner.notice")).to_have_text("You are back as boss.")
    expect(page.locator("#impersonation-banner")).to_have_count(0)
    expect(page.locator(".who")).to_contain_text("boss")
    assert panel.balance("alice") == "100.00"
