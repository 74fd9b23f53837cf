"""Logging in and out in a real browser."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.usecases import accounts
from tests.browser.conftest import log_in, screenshot, sign_up
from tests.support.panel import Panel
from tests.support.server import LiveServer


def test_sign_up_log_out_and_log_in_again(
    page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    sign_up(page, server.base_url, "carol", "correct horse")
    expect(page.locator(".banner.notice")).to_contain_text("Welcome")
    page.click("text=Log out")
    expect(page).to_have_url(f"{server.base_url}/login")
    log_in(page, server.base_url, "carol", "wrong password")
    expect(page.locator(".banner.error")).to_have_text("Invalid username or password")
    screenshot(page, "login-error")
    log_in(page, server.base_url, "carol", "correct horse")
    expect(page.locator(".who")).to_contain_text("carol")
    customer = Panel(database_url).run(lambda db: accounts.log_in(db, "carol", "correct horse"))
    assert customer.username == "carol" and not customer.is_admin
