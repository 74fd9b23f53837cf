"""In a real browser: a customer redeems a coupon on the Funds page and sees the balance it credited."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.domain.coupons import CouponKind
from smmpanel.money import parse_amount
from smmpanel.usecases import coupons
from tests.browser.conftest import screenshot, sign_up
from tests.support.panel import Panel
from tests.support.server import LiveServer


def test_a_customer_redeems_a_coupon_on_the_funds_page(
    page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    panel = Panel(database_url)  # set-up runs in a helper thread: Playwright's loop owns this one
    panel.run(lambda db: coupons.create_coupon(db, "WELCOME", CouponKind.AMOUNT, parse_amount("3.33333"), max_uses=1))
    panel.run(lambda db: coupons.create_coupon(db, "NEXT10", CouponKind.PERCENT, parse_amount("10")))
    base = server.base_url
    sign_up(page, base, "dora", "correct horse")
    expect(page).to_have_url(f"{base}/orders/new")

    page.click("nav.menu >> text=Funds")
    page.fill("#coupon-form input[name=coupon]", "welcom")
    page.click("#coupon-form button")
    expect(page.locator(".banner.error")).to_have_text("This coupon code is not valid")
    expect(page.locator("#coupon-form input[name=coupon]")).to_have_value("welcom")  # kept, to fix the typo

    page.fill("#coupon-form input[name=coupon]", "welcome")
    page.click("#coupon-form button")
    expect(page.locator(".banner.notice")).to_have_text("Coupon WELCOME: 3.33333 added to your balance.")
    expect(page.locator("#balance")).to_have_text("3.33333 USD")
    expect(page.locator(".who .balance")).to_have_text("3.33333")
    expect(page.locator("table.ledger tbody tr").first).to_contain_text("coupon WELCOME")
    screenshot(page, "customer-coupon")

    page.fill("#coupon-form input[name=coupon]", "next10")
    page.click("#coupon-form button")
    expect(page.locator(".banner.notice")).to_have_text(
        "Coupon NEXT10 accepted: 10.00 % of your next deposit will be added."
    )
    expect(page.locator("#waiting-coupon")).to_have_text(
        "Coupon NEXT10: 10.00 % of your next deposit will be added to your balance."
    )
    expect(page.locator("#balance")).to_have_text("3.33333 USD")  # nothing until that deposit completes
    assert panel.ledger_ok()
