"""/admin/services in a real browser: one table grouped by category, toggles that work without JS, at 390 px."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from smmpanel.usecases import accounts, catalog
from tests.browser.conftest import log_in
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"


def on_sale(panel: Panel) -> list[int]:
    return [service.id for service in panel.run(lambda db: catalog.list_services(db, enabled_only=True))]


def test_one_table_by_category_with_toggles_that_work_without_js_on_a_phone(
    browser: Browser, page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    base = server.base_url
    panel = Panel(database_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    followers = panel.service(name="Followers", category="Instagram", rate="0.90")
    likes = panel.service(name="Likes", category="Instagram", rate="0.35")
    views = panel.service(name="Views", category="TikTok", rate="0.05", min=100, max=100000)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    try:
        plain = phone.new_page()
        plain.set_default_timeout(15_000)
        log_in(plain, base, "boss", PASSWORD)
        plain.goto(f"{base}/admin/services")
        expect(plain.locator("table.services")).to_have_count(1)  # one table, a header row per category
        expect(plain.locator("table.services tbody.category .category-row h2")).to_have_text(
            ["Instagram 2", "TikTok 1"]
        )
        width = plain.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width  # the table scrolls inside its own box, never the page

        toggle = plain.locator(f"#service-{likes} button.toggle")
        expect(toggle).to_have_text("On")
        expect(toggle).to_have_attribute("aria-pressed", "true")
        toggle.click()  # a plain form post: no script runs in this browser
        expect(plain.locator(".banner.notice")).to_have_text(f"#{likes} Likes is off sale.")
        expect(plain).to_have_url(f"{base}/admin/services#service-{likes}")
        toggle = plain.locator(f"#service-{likes} button.toggle")
        expect(toggle).to_have_text("Off")
        expect(toggle).to_have_attribute("aria-pressed", "false")
        expect(plain.locator(f"#service-{likes}")).to_have_class("off")
        assert on_sale(panel) == [followers, views]
        toggle.click()
        expect(plain.locator(f"#service-{likes} button.toggle")).to_have_text("On")
        assert on_sale(panel) == [followers, likes, views]
    finally:
        phone.close()

    # With script: a category's "select all" ticks that category's services only.
    log_in(page, base, "boss", PASSWORD)
    page.goto(f"{base}/admin/services")
    page.locator("tbody.category").first.locator("input[data-check-all]").check()
    expect(page.locator(f"#service-{followers} input[name=ids]")).to_be_checked()
    expect(page.locator(f"#service-{likes} input[name=ids]")).to_be_checked()
    expect(page.locator(f"#service-{views} input[name=ids]")).not_to_be_checked()
