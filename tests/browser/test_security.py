"""In a real browser: the pages work under their Content-Security-Policy, no other site can frame
them, and "Sign out everywhere" ends the account's other browser sessions."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import ConsoleMessage, Page, expect

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.browser.conftest import log_in
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"


def test_pages_work_under_their_policy_and_cannot_be_framed(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    panel = Panel(database_url)
    panel.run(lambda db: accounts.create_customer(db, "carol", parse_amount("10"), password=PASSWORD))
    panel.service(name="Followers", rate="0.90", min=50, max=10000)
    page = new_page()
    blocked: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    page.on("console", note)
    log_in(page, server.base_url, "carol", PASSWORD)
    expect(page).to_have_url(f"{server.base_url}/orders/new")
    page.fill("[name=link]", "https://instagram.com/p/abc")
    page.fill("[name=quantity]", "1000")
    expect(page.locator("#charge")).to_have_text("0.90 USD")  # the page's script runs
    for path in ("/orders", "/funds", "/api", "/account/password"):
        page.goto(f"{server.base_url}{path}")
    assert blocked == []

    framing = new_page()
    framing.set_content(f'<iframe src="{server.base_url}/login" width="600" height="400"></iframe>')
    assert framing.frame_locator("iframe").locator("input[name=username]").count() == 0


def test_sign_out_everywhere_ends_the_other_browsers_session(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    Panel(database_url).run(lambda db: accounts.create_customer(db, "carol", parse_amount("10"), password=PASSWORD))
    laptop, phone = new_page(), new_page()
    for browser_page in (laptop, phone):
        log_in(browser_page, server.base_url, "carol", PASSWORD)
        expect(browser_page.locator(".who")).to_contain_text("carol")
    laptop.goto(f"{server.base_url}/account/password")
    laptop.click("#end-sessions button")
    expect(laptop).to_have_url(f"{server.base_url}/login")
    phone.goto(f"{server.base_url}/orders")
    expect(phone).to_have_url(f"{server.base_url}/login?next=/orders")
