"""The storefront and display currencies in a real browser: a visitor looks around before signing up;
a customer switches currency and reads converted prices and balance beside the exact charge."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, catalog, currencies, pricing
from tests.browser.conftest import log_in, screenshot
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def shop(start_server: Callable[..., LiveServer], database_url: str) -> tuple[str, Panel, dict[str, int]]:
    """A live panel with three services on sale and one in a hidden category."""
    server = start_server()
    panel = Panel(database_url)  # set-up runs in a helper thread: Playwright's loop owns this one
    ids = {
        "likes": panel.service(name="Instagram Likes", category="Instagram", rate="0.45", refill=False),
        "followers": panel.service(name="Instagram Followers", category="Instagram", rate="1.20"),
        "views": panel.service(name="YouTube Views", category="YouTube", rate="2.00", cancel=False),
        "secret": panel.service(name="Hidden Plays", category="Secret", rate="0.01"),
    }
    panel.run(lambda db: catalog.hide_category(db, "Secret", True))
    return server.base_url, panel, ids


def test_a_visitor_looks_around_searches_and_filters(page: Page, shop: tuple[str, Panel, dict[str, int]]) -> None:
    base, panel, ids = shop

    page.goto(f"{base}/")
    expect(page.locator("#panel-name")).to_have_text("smmpanel")
    expect(page.locator("#figure-services")).to_have_text("3")
    expect(page.locator("#figure-categories")).to_have_text("2")
    expect(page.locator("a.button[href='/signup']")).to_be_visible()
    screenshot(page, "storefront-landing")
    page.click("a.button[href='/services']")
    expect(page).to_have_url(f"{base}/services")
    expect(page.locator("tr[id^=service-]")).to_have_count(3)
    expect(page.locator(f"#service-{ids['secret']}")).to_have_count(0)
    expect(page.locator(f"#service-{ids['views']} .rate-shown")).to_have_text("2.00 USD")
    expect(page.locator(f"#service-{ids['followers']}")).to_contain_text("Refill 30 days")
    screenshot(page, "storefront-services")

    page.fill("#service-search input[name=q]", "likes")
    page.click("#service-search button")
    expect(page.locator("tr[id^=service-]")).to_have_count(1)
    expect(page.locator(f"#service-{ids['likes']}")).to_be_visible()
    page.fill("#service-search input[name=q]", "")
    page.select_option("#service-search select[name=category]", "YouTube")
    page.click("#service-search button")
    expect(page).to_have_url(f"{base}/services?q=&category=YouTube")
    expect(page.locator("tr[id^=service-]")).to_have_count(1)
    expect(page.locator(f"#service-{ids['views']}")).to_be_visible()

    # A visitor's currency: the page their browser may keep a minute is not served in the old one.
    panel.run(lambda db: currencies.add_currency(db, "EUR", symbol="€", decimals=2, rate="0.92", panel_code="USD"))
    page.goto(f"{base}/services?category=YouTube")
    page.select_option("#currency-select", "EUR")
    expect(page).to_have_url(f"{base}/services?category=YouTube")
    expect(page.locator(f"#service-{ids['views']} .rate-shown")).to_have_text("≈ €1.84")
    page.goto(f"{base}/")
    expect(page.locator("#figure-cheapest")).to_have_text("≈ €0.41")  # 0.45 × 0.92 = 0.414

    page.goto(f"{base}/services?category=YouTube")
    page.click(f"#service-{ids['views']} a.button")  # ordering needs an account
    expect(page).to_have_url(f"{base}/login?next=/orders/new%3Fservice%3D{ids['views']}")

    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/", "/services"):
        page.goto(f"{base}{path}")
        no_sideways_scroll(page)
    screenshot(page, "storefront-services-phone")


def test_a_customer_switches_currency_and_sees_their_own_rates_converted(
    page: Page, shop: tuple[str, Panel, dict[str, int]]
) -> None:
    base, panel, ids = shop
    panel.run(lambda db: accounts.create_customer(db, "gina", parse_amount("10"), password=PASSWORD))
    panel.run(lambda db: pricing.set_custom_rate(db, "gina", ids["followers"], parse_amount("0.99")))
    panel.run(lambda db: currencies.add_currency(db, "EUR", symbol="€", decimals=2, rate="0.9234", panel_code="USD"))
    panel.run(lambda db: currencies.add_currency(db, "JPY", symbol="¥", decimals=0, rate="151.37", panel_code="USD"))

    log_in(page, base, "gina", PASSWORD)
    expect(page).to_have_url(f"{base}/orders/new")
    page.goto(f"{base}/services")
    expect(page.locator(f"#service-{ids['followers']} .rate-shown")).to_have_text("0.99 USD")  # her own rate
    expect(page.locator(f"#service-{ids['followers']}")).to_contain_text("your price")
    expect(page.locator("#balance-shown")).to_have_count(0)

    page.select_option("#currency-select", "EUR")  # the picker submits itself
    expect(page).to_have_url(f"{base}/services")
    expect(page.locator("#currency-select")).to_have_value("EUR")
    expect(page.locator(f"#service-{ids['followers']} .rate-shown")).to_have_text("≈ €0.91")  # 0.914166 half-up
    expect(page.locator(f"#service-{ids['followers']} .rate-exact")).to_have_text("0.99 USD")
    expect(page.locator(f"#service-{ids['views']} .rate-shown")).to_have_text("≈ €1.85")  # 1.8468
    expect(page.locator("#balance-shown")).to_have_text("≈ €9.23")  # 10 × 0.9234 = 9.234
    expect(page.locator(".who .balance")).to_have_text("10.00")  # the balance itself stays exact
    screenshot(page, "storefront-own-rates-eur")

    page.click(f"#service-{ids['followers']} a.button")
    expect(page).to_have_url(f"{base}/orders/new?service={ids['followers']}")
    expect(page.locator("#service")).to_have_value(str(ids["followers"]))
    expect(page.locator("#info-rate-shown")).to_have_text("(≈ €0.91)")
    page.fill("input[name=link]", "https://instagram.com/gina")
    page.fill("input[name=quantity]", "1234")  # 0.99 × 1234 / 1000 = 1.22166
    expect(page.locator("#charge")).to_have_text("1.22166 USD")
    expect(page.locator("#charge-shown")).to_have_text("(≈ €1.13)")  # 1.22166 × 0.9234 = 1.128080...
    expect(page.locator("#balance-after")).to_have_text("8.77834 USD")
    expect(page.locator("#balance-after-shown")).to_have_text("(≈ €8.11)")  # 8.105919...
    screenshot(page, "new-order-two-currencies")

    page.select_option("#currency-select", "JPY")
    expect(page.locator("#balance-shown")).to_have_text("≈ ¥1514")  # 1513.7
    page.fill("input[name=link]", "https://instagram.com/gina")
    page.fill("input[name=quantity]", "1234")
    expect(page.locator("#charge-shown")).to_have_text("(≈ ¥185)")  # 184.92...
    page.click("button.primary")
    expect(page.locator(".banner.notice")).to_have_text(
        "Order #1 placed. Charged 1.22166 USD. Your balance is now 8.77834 USD."
    )
    assert panel.balance("gina") == "8.77834" and panel.ledger_ok()
