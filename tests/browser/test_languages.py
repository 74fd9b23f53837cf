"""Languages in a real browser: the picker, a choice that outlives logging out, Arabic right to left."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts
from tests.browser.conftest import log_in, screenshot
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"


def pick(page: Page, name: str) -> None:
    page.select_option(".language-picker select", label=name)
    page.click(".language-picker button")


def test_a_customer_switches_to_russian_and_it_stays_after_logging_out_and_in(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server, panel = start_server(), Panel(database_url)
    panel.run(lambda db: accounts.create_customer(db, "carol", parse_amount("10"), password=PASSWORD))
    service = panel.service(name="Followers", min=50, max=10000)
    base, page = server.base_url, new_page()
    log_in(page, base, "carol", PASSWORD)
    page.goto(f"{base}/orders")
    expect(page.locator("nav.menu")).to_contain_text("Mass order")
    pick(page, "Русский")
    expect(page).to_have_url(f"{base}/orders")  # back on the page the picker was on
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("nav.menu")).to_contain_text("Массовый заказ")
    expect(page.locator("h1")).to_have_text("Заказы")
    page.goto(f"{base}/funds")
    expect(page.locator("h1")).to_have_text("Баланс")
    page.goto(f"{base}/orders/new?service={service}")  # panel.js's live hints speak Russian too
    page.fill("input[name=quantity]", "10")
    expect(page.locator("#charge-hint")).to_have_text("Количество меньше минимального: 50")
    page.click(".who button.link")  # «Выйти»
    expect(page.locator("button.primary")).to_have_text("Войти")  # the login page, still in Russian
    log_in(page, base, "carol", PASSWORD)
    expect(page.locator("nav.menu")).to_contain_text("Новый заказ")
    elsewhere = new_page()  # another browser, no cookie: the account remembers
    log_in(elsewhere, base, "carol", PASSWORD)
    expect(elsewhere.locator("html")).to_have_attribute("lang", "ru")
    expect(elsewhere.locator("nav.menu")).to_contain_text("Поддержка")
    screenshot(elsewhere, "customer-russian")


def test_a_visitor_picks_turkish_on_the_login_page(
    page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    page.goto(f"{server.base_url}/login")
    expect(page.locator("button.primary")).to_have_text("Log in")
    pick(page, "Türkçe")
    expect(page).to_have_url(f"{server.base_url}/login")
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.locator("button.primary")).to_have_text("Giriş yap")
    page.goto(f"{server.base_url}/signup")
    expect(page.locator("html")).to_have_attribute("lang", "tr")


def test_the_arabic_pages_run_right_to_left_with_the_layout_mirrored(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server, panel = start_server(), Panel(database_url)
    panel.run(lambda db: accounts.create_customer(db, "omar", parse_amount("25"), password=PASSWORD))
    base = server.base_url

    def left_edges(page: Page) -> tuple[float, float]:
        brand, menu = page.locator(".topbar .brand").bounding_box(), page.locator("nav.menu").bounding_box()
        assert brand is not None and menu is not None
        return brand["x"], menu["x"]

    page = new_page()
    log_in(page, base, "omar", PASSWORD)
    page.goto(f"{base}/orders")
    brand_x, menu_x = left_edges(page)
    assert brand_x < menu_x  # left to right: the brand first, at the left
    pick(page, "العربية")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("h1")).to_have_text("الطلبات")
    brand_x, menu_x = left_edges(page)
    assert brand_x > menu_x  # right to left: the brand at the right, the nav starts right of the middle
    first, second = (page.locator("nav.menu a").nth(n).bounding_box() for n in (0, 1))
    assert first is not None and second is not None and first["x"] > second["x"]  # read from the right
    assert page.locator("main").evaluate("main => getComputedStyle(main).direction") == "rtl"
    screenshot(page, "customer-arabic")


def test_an_operator_reads_their_pages_in_turkish_and_sets_the_panel_s_default(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server, panel = start_server(), Panel(database_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    base, page = server.base_url, new_page()
    log_in(page, base, "boss", PASSWORD)
    page.goto(f"{base}/admin/settings")
    pick(page, "Türkçe")
    expect(page.locator("h1")).to_have_text("Ayarlar")
    expect(page.locator("nav.menu")).to_contain_text("Müşteriler")
    page.select_option("#language-form select[name=default_language]", "ru")
    page.click("#language-form button")
    expect(page.locator(".banner.notice")).to_have_text("Varsayılan dil kaydedildi: Русский.")
    screenshot(page, "operator-turkish")
    visitor = new_page()  # Playwright's browser asks for en-US: the browser's language comes before the default
    visitor.goto(f"{base}/login")
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
