"""The import preview and a bulk action in a real browser, against the provider simulator over HTTP."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, catalog, providers
from tests.browser.conftest import log_in, screenshot
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.simulator import live_simulator

PASSWORD = "correct horse"


def test_an_operator_previews_imports_a_selection_with_a_markup_then_reprices_in_bulk(
    page: Page, start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    panel = Panel(database_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    with live_simulator(seconds_per_step=0, seed=1) as simulator:
        provider_id = panel.run(lambda db: providers.add_provider(db, "sim", simulator.api_url, "simulator-key"))
        base = server.base_url
        log_in(page, base, "boss", PASSWORD)
        page.goto(f"{base}/admin/providers/{provider_id}")
        page.click("text=Import with a preview")
        expect(page.locator("#import-selection tbody tr")).to_have_count(9)  # the whole catalog

        # Filter to one of their categories, with a 12.5 % markup rounded up to a price ending in 9.
        page.select_option("#preview-filter select[name=in_category]", "Instagram Mentions")
        page.fill("#preview-filter input[name=markup]", "12.5")
        page.select_option("#preview-filter select[name=rounding]", "x9")
        page.click("#preview-filter button")
        rows = page.locator("#import-selection tbody tr")
        expect(rows).to_have_count(3)
        expect(page.locator("#upstream-4 td.rate")).to_have_text("9.09")  # 8.00 × 1.125 = 9.00 → .x9
        expect(page.locator("#upstream-5 td.rate")).to_have_text("6.79")  # 6.75
        expect(page.locator("#upstream-6 td.rate")).to_have_text("7.39")  # 7.3125
        page.check("#upstream-4 input[type=checkbox]")
        page.check("#upstream-6 input[type=checkbox]")
        page.fill("#import-selection input[name=category]", "Mentions")
        screenshot(page, "admin-import-preview")
        page.click("#import-selection button.primary")
        expect(page.locator(".banner.notice")).to_contain_text("Imported: 2 created, 0 updated.")

    imported = {s.name: s for s in panel.run(lambda db: catalog.list_services(db, enabled_only=False))}
    assert {name: (s.category, s.rate) for name, s in imported.items()} == {
        "Instagram Mentions [Custom List]": ("Mentions", parse_amount("9.09")),
        "Instagram Mentions [User Followers]": ("Mentions", parse_amount("7.39")),
    }
    # A bulk action on the services list: +10 % on one of them only.
    first = imported["Instagram Mentions [Custom List]"].id
    page.check(f"input[name=ids][value='{first}']")
    page.fill("#bulk input[name=percent]", "10")
    page.click("#bulk button.primary")
    expect(page.locator(".banner.notice")).to_contain_text("Rates changed on 1 services.")
    repriced = {s.id: s.rate for s in panel.run(lambda db: catalog.list_services(db, enabled_only=False))}
    assert repriced[first] == parse_amount("9.999")  # 9.09 × 1.1, half-up
    assert sorted(repriced.values()) == [parse_amount("7.39"), parse_amount("9.999")]
    # The list shows each service's provider, cost and margin (9.999 - 8.00).
    expect(page.locator(f"#service-{first} td.margin")).to_have_text("1.999")
    expect(page.locator(f"#service-{first}")).to_contain_text("sim")

    # Search, then switch one off in bulk: back on the same search, at that service.
    page.fill("#service-search input[name=q]", "Custom List")
    page.click("#service-search button")
    expect(page.locator("tr[id^=service-]")).to_have_count(1)
    page.check(f"input[name=ids][value='{first}']")
    page.select_option("#bulk select[name=action]", "disable")
    page.click("#bulk-action")
    expect(page.locator(".banner.notice")).to_contain_text("1 services switched off.")
    expect(page).to_have_url(f"{base}/admin/services?q=Custom+List#service-{first}")
    expect(page.locator(f"#service-{first}")).to_have_class("off")
    on_sale = {s.id: s.enabled for s in panel.run(lambda db: catalog.list_services(db, enabled_only=False))}
    assert on_sale == {first: False, first + 1: True}
    panel.close()
