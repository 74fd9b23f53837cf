"""Branding and signup modes in a real browser: what the operator sets shows on the next page load,
in this process at once and in another process within the cache's seconds, with no restart."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from smmpanel.db.unit_of_work import Database
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, orders, tickets
from tests.browser.conftest import log_in, screenshot, sign_up
from tests.support.cli import Cli
from tests.support.panel import Panel
from tests.support.server import LiveServer

PASSWORD = "correct horse"
PNG = base64.b64decode(  # a 2×1 PNG: teal and amber
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAEElEQVR42mMIKGdgYPjPAAAHXAHWZq3U4wAAAABJRU5ErkJggg=="
)
BRAND = "rgb(15, 118, 110)"  # #0f766e

WELCOME = "Welcome! Your account is ready. Your API key is on the API page."


def operator_page(page: Page, server: LiveServer, panel: Panel) -> None:
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    log_in(page, server.base_url, "boss", PASSWORD)
    page.goto(f"{server.base_url}/admin/settings")


def reload_until(page: Page, check: Callable[[], bool], seconds: float = 20) -> None:
    """Reload until ``check`` holds: another process sees a change within its cache's lifetime."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"still not changed after {seconds} s: {page.url}"
        time.sleep(0.3)
        page.reload()


def test_name_logo_colour_and_favicon_apply_without_a_restart(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str, tmp_path: Path
) -> None:
    server = start_server()
    panel = Panel(database_url)
    operator, visitor = new_page(), new_page()
    operator_page(operator, server, panel)
    visitor.goto(f"{server.base_url}/login")
    expect(visitor).to_have_title("Log in · smmpanel")
    expect(visitor.locator("a.brand")).to_have_text("smmpanel")

    operator.fill("#branding-form [name=name]", "Boost Hub")
    operator.fill("#branding-form [name=primary]", "#0f766e")
    operator.select_option("#branding-form [name=theme]", "light")
    operator.click("#branding-form button.primary")
    expect(operator.locator(".banner.notice")).to_have_text("Settings saved.")
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    operator.set_input_files("#logo-upload input[type=file]", str(logo))
    operator.click("#logo-upload button")
    expect(operator.locator(".banner.notice")).to_have_text("The logo is saved.")

    visitor.reload()
    expect(visitor).to_have_title("Log in · Boost Hub")
    expect(visitor.locator("a.brand img.logo")).to_have_attribute("alt", "Boost Hub")
    assert visitor.locator("a.brand img.logo").evaluate("(img) => img.naturalWidth") == 2
    expect(visitor.locator("button.primary")).to_have_css("background-color", BRAND)
    icon = visitor.request.get(f"{server.base_url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"
    screenshot(visitor, "branded-login")

    # Another process (the CLI) changes the name: this panel shows it within its cache's seconds.
    done = Cli(database_url, tmp_path)("settings", "set", "name", "Boost Hub Pro")
    assert done.returncode == 0, done.stderr
    reload_until(visitor, lambda: visitor.title() == "Log in · Boost Hub Pro")
    panel.close()


def test_a_closed_panel_refuses_sign_ups_and_an_invite_opens_one_account(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server()
    panel = Panel(database_url)
    operator, visitor = new_page(), new_page()
    operator_page(operator, server, panel)
    operator.select_option("#branding-form [name=signup]", "closed")
    operator.click("#branding-form button.primary")
    visitor.goto(f"{server.base_url}/signup")
    expect(visitor.locator("#signup-refusal")).to_have_text("Sign-up is closed on this panel.")
    expect(visitor.locator("input[name=username]")).to_have_count(0)

    operator.goto(f"{server.base_url}/admin/settings")
    operator.select_option("#branding-form [name=signup]", "invite")
    operator.click("#branding-form button.primary")
    visitor.goto(f"{server.base_url}/signup")
    expect(visitor.locator("#signup-refusal")).to_contain_text("by invitation only")
    operator.fill("#invites [name=note]", "for carol")
    operator.click("#invites button.primary")
    notice = operator.locator(".banner.notice").inner_text()
    link = re.search(r"(http\S+/signup\?invite=\S+)", notice)
    assert link is not None, notice
    expect(operator.locator("#invite-list")).to_contain_text("for carol")
    expect(operator.locator("#invite-list")).to_contain_text("Unused")

    carol = new_page()
    carol.goto(link.group(1))
    carol.fill("input[name=username]", "carol")
    carol.fill("input[name=password]", PASSWORD)
    carol.fill("input[name=password_again]", PASSWORD)
    carol.click("button.primary")
    expect(carol.locator(".banner.notice")).to_have_text(WELCOME)

    dave = new_page()  # the same link, again: spent
    dave.goto(link.group(1))
    expect(dave.locator("#signup-refusal")).to_have_text(
        "This invite link is not valid any more (it was used or withdrawn)."
    )
    operator.goto(f"{server.base_url}/admin/settings")
    expect(operator.locator("#invite-list")).to_contain_text("Used by carol")
    names = {user.username for user in panel.run(accounts.list_customers)}
    assert names == {"boss", "carol"}
    panel.close()


def test_an_open_panel_signs_up_and_links_the_terms(page: Page, start_server: Callable[..., LiveServer]) -> None:
    server = start_server()
    page.goto(f"{server.base_url}/signup")
    expect(page.locator("form a[href='/terms']")).to_be_visible()
    expect(page.locator("footer a[href='/contact']")).to_be_visible()
    sign_up(page, server.base_url, "erin", PASSWORD)
    expect(page.locator(".banner.notice")).to_have_text(WELCOME)


def test_times_are_shown_in_the_panels_time_zone(
    page: Page, start_server: Callable[..., LiveServer], database_url: str, tmp_path: Path
) -> None:
    server = start_server()
    panel = Panel(database_url)

    async def set_up(db: Database) -> tuple[int, int]:
        await accounts.create_customer(db, "alice", parse_amount("10"), password=PASSWORD)
        alice = next(user for user in await accounts.list_customers(db) if user.username == "alice")
        ticket = await tickets.open_ticket(db, alice.id, "Hello", "Hi")
        return alice.id, ticket

    alice_id, ticket_id = panel.run(set_up)
    service = panel.service()
    order = panel.run(
        lambda db: orders.place_order(
            db, alice_id, {"service": str(service), "link": "https://x.example/a", "quantity": "100"}
        )
    )
    placed = panel.run(lambda db: orders.orders_of_customer(db, alice_id, [order]))[order].created_at
    assert Cli(database_url, tmp_path)("settings", "set", "time_zone", "Asia/Kolkata").returncode == 0
    log_in(page, server.base_url, "alice", PASSWORD)
    page.goto(f"{server.base_url}/orders/{order}")
    local = placed.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Kolkata")).strftime("%Y-%m-%d %H:%M:%S")
    reload_until(page, lambda: f"{local} Asia/Kolkata" in page.locator("main").inner_text())
    expect(page.locator("#time-zone")).to_have_text("Times are shown in Asia/Kolkata")
    page.goto(f"{server.base_url}/tickets/{ticket_id}")
    expect(page.locator("main")).to_contain_text("Asia/Kolkata")
    panel.close()
