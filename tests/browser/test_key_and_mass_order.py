"""The API key page and mass order in a real browser: what a reload and a refused line do."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.browser.conftest import sign_up
from tests.support.panel import Panel
from tests.support.server import LiveServer

KEY = re.compile(r"[A-Za-z0-9_-]{32}")


def test_a_key_is_shown_once_and_a_reload_neither_shows_nor_rotates_it(
    page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    base = server.base_url
    api = Panel(database_url, f"{base}/api/v2")

    # A new account: its key is on its first API page, once.
    sign_up(page, base, "kim", "correct horse")
    expect(page.locator(".banner.notice")).to_contain_text("Your API key is on the API page.")
    page.click('nav.menu a[href="/api"]')
    first = page.locator("#new-key").inner_text()
    assert KEY.fullmatch(first)
    page.reload()
    expect(page.locator("#api-url")).to_be_visible()
    expect(page.locator("#new-key")).to_have_count(0)
    assert api.call(first, "balance") == {"balance": "0.00", "currency": "USD"}

    # A new key: shown after the redirect; reloading that page keeps the very key just copied.
    page.click("text=Generate a new key")
    expect(page).to_have_url(f"{base}/api#api-key")
    second = page.locator("#new-key").inner_text()
    assert KEY.fullmatch(second) and second != first
    page.reload()
    expect(page.locator("#api-url")).to_be_visible()
    expect(page.locator("#new-key")).to_have_count(0)
    assert api.call(second, "balance") == {"balance": "0.00", "currency": "USD"}
    assert api.call(first, "balance") == {"error": "Invalid API key"}
    api.close()


def test_mass_order_keeps_only_the_refused_lines_with_their_reasons(
    page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    base = server.base_url
    panel = Panel(database_url)
    service = panel.service(rate="2")
    sign_up(page, base, "lee", "correct horse")
    panel.run(lambda db: accounts.fund(db, "lee", parse_amount("10"), "bank transfer"))

    page.goto(f"{base}/orders/mass")
    lines = [
        f"{service} | https://one | 1000",
        f"{service} | https://two | 10",
        "not an order",
        f"{service} | https://three | 500",
        "999 | https://four | 100",
    ]
    page.fill("textarea[name=orders]", "\n".join(lines))
    page.click("text=Place orders")
    expect(page.locator(".banner.notice")).to_have_text(
        "2 of 5 orders placed, 3.00 USD charged. 3 refused: nothing was charged for them."
    )
    box = page.locator("textarea[name=orders]")
    expect(box).to_have_value("\n".join([lines[1], lines[2], lines[4]]))
    expect(page.locator("#refused-lines li")).to_have_text(
        [
            f"{lines[1]} Quantity less than minimal 50",
            f"{lines[2]} Write each order as: service ID | link | quantity",
            f"{lines[4]} Incorrect service ID",
        ]
    )

    # Fix the lines in the box and place them: nothing refused, nothing left in it.
    box.fill(f"{service} | https://two | 100\n{service} | https://four | 100")
    page.click("text=Place orders")
    expect(page.locator(".banner.notice")).to_have_text("2 of 2 orders placed, 0.40 USD charged.")
    expect(box).to_have_value("")
    expect(page.locator("#refused-lines")).to_have_count(0)
    assert panel.balance("lee") == "6.60"
