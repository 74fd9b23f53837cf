"""A customer's day in a real browser: sign up, order with a live price, cancel, stop, ask support."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.domain.catalog import ServiceType
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.browser.conftest import place_order, screenshot, sign_up
from tests.support.panel import Panel
from tests.support.server import LiveServer


def test_a_customer_orders_cancels_stops_and_asks_support(
    page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    panel = Panel(database_url)  # set-up runs in a helper thread: Playwright's loop owns this one
    followers = panel.service(name="Followers", category="Instagram", rate="0.90", min=50, max=10000)
    comments = panel.service(
        name="Custom comments",
        category="Instagram Comments",
        type=ServiceType.CUSTOM_COMMENTS,
        rate="12.34567",
        min=1,
        max=100,
        cancel=False,
        description="Your own words, <b>one per line</b>",
    )
    base = server.base_url

    sign_up(page, base, "carol", "correct horse")
    expect(page).to_have_url(f"{base}/orders/new")
    panel.run(lambda db: accounts.fund(db, "carol", parse_amount("50"), "bank transfer"))

    # A Default order: the charge shows before submitting, exact to the last digit.
    page.goto(f"{base}/orders/new")
    page.select_option("#category", "Instagram")
    page.select_option("#service", str(followers))
    expect(page.locator("#info-name")).to_have_text("Followers")
    expect(page.locator("textarea[name=comments]")).to_be_hidden()
    page.fill("input[name=link]", "https://instagram.com/carol")
    page.fill("input[name=quantity]", "10")
    expect(page.locator("#charge-hint")).to_have_text("Quantity less than minimal 50")
    place_order(page, 1, "1.1106", "48.8894", shot="customer-new-order", quantity="1234")  # 0.90 × 1234 / 1000
    expect(page.locator(".who .balance")).to_have_text("48.8894")

    # A drip-feed: runs multiply the charge.
    page.fill("input[name=link]", "https://instagram.com/carol/p/1")
    page.fill("input[name=quantity]", "100")
    page.check("#drip-feed")
    page.fill("input[name=runs]", "5")
    page.fill("input[name=interval]", "60")
    expect(page.locator("#charge")).to_have_text("0.45 USD")
    page.click("button.primary")
    expect(page.locator(".banner.notice")).to_contain_text("Order #2 placed. Charged 0.45 USD.")

    # Custom Comments: the quantity is the number of lines; 12.34567 × 3 / 1000 = 0.03703701 → 0.03704.
    page.select_option("#category", "Instagram Comments")
    expect(page.locator("#service")).to_have_value(str(comments))  # the only service of that category
    expect(page.locator("#info-description")).to_have_text("Your own words, <b>one per line</b>")
    expect(page.locator("input[name=quantity]")).to_be_hidden()
    comments = "Great shot!\n\nLove it\n<script>alert(1)</script>\n"
    place_order(page, 3, "0.03704", "48.40236", link="https://instagram.com/p/xyz", comments=comments)

    # Orders: cancel the first order and see the refund.
    page.click('nav.menu a[href="/orders"]')
    expect(page.locator("table.orders tbody tr")).to_have_count(3)
    expect(page.locator("table.orders")).to_contain_text("0/5 runs, every 60 min")
    screenshot(page, "customer-orders")
    page.locator('form[action="/orders/1/cancel"] button').click()
    expect(page.locator(".banner.notice")).to_have_text(
        "Order #1 canceled. 1.1106 USD refunded; your balance is now 49.51296 USD."
    )
    expect(page.locator('form[action="/orders/3/cancel"]')).to_have_count(0)  # that service allows no cancel
    page.goto(f"{base}/orders/3")
    expect(page.locator("ol.lines li")).to_have_count(3)
    expect(page.locator("ol.lines li").nth(2)).to_have_text("<script>alert(1)</script>")

    # Drip-feeds: stop the drip-feed; its five runs were never placed, so all come back.
    page.click('nav.menu a[href="/drip-feeds"]')
    page.locator('form[action="/drip-feeds/2/stop"] button').click()
    expect(page.locator(".banner.notice")).to_contain_text("Drip-feed #2 stopped after 0 of 5 runs.")
    expect(page.locator(".banner.notice")).to_contain_text("your balance is now 49.96296 USD")
    expect(page.locator("table.drip-feeds")).to_contain_text("Canceled")

    # Funds: every movement, newest first.
    page.click('nav.menu a[href="/funds"]')
    expect(page.locator("table.ledger tbody tr")).to_have_count(6)  # top-up, 3 charges, 2 refunds
    expect(page.locator("table.ledger tbody tr").last).to_contain_text("bank transfer")

    # Support: a ticket about an order.
    page.click('nav.menu a[href="/tickets"]')
    page.click("text=New ticket")
    page.fill("input[name=subject]", "Comments order")
    page.fill("input[name=order]", "3")
    page.fill("textarea[name=message]", "Can the comments go out <today>?")
    page.click("button.primary")
    expect(page).to_have_url(re.compile(r"/tickets/1$"))
    expect(page.locator(".banner.notice")).to_contain_text("Ticket #1 opened")
    expect(page.locator(".message .body")).to_have_text("Can the comments go out <today>?")
    expect(page.locator("h1 .status")).to_have_text("Open")
    screenshot(page, "customer-ticket")

    # API: a new key, shown once, with the documentation for this very panel.
    page.click('nav.menu a[href="/api"]')
    expect(page.locator("#api-url")).to_have_text(f"{base}/api/v2")
    page.click("text=Generate a new key")
    key = page.locator("#new-key").inner_text()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", key)
    screenshot(page, "customer-api")
    assert Panel(database_url, f"{base}/api/v2").call(key, "balance")["balance"] == "49.96296"
    page.goto(f"{base}/api")
    expect(page.locator("#new-key")).to_have_count(0)
