"""A real browser: Debian's Chromium, driven by Playwright through its executable path.

No browser is downloaded. Without /usr/bin/chromium these tests are skipped, unless
SMMPANEL_REQUIRE_BROWSER=1 (set by CI, which installs the package) makes that a failure.
Screenshots land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

CHROMIUM = os.environ.get("SMMPANEL_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the browser tests, closed when they end.

    Playwright's sync API keeps an event loop running in the main thread while it is open;
    a session-wide browser would make every later ``asyncio.run`` and anyio test refuse to start.
    """
    if not shutil.which(CHROMIUM):
        if os.environ.get("SMMPANEL_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM}", pytrace=False)
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Opens a page in a browser context of its own (its own cookies: one per user); all closed at the end.

    Confirmation dialogs (``data-confirm`` buttons) are accepted.
    """
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        contexts.append(context)
        opened = context.new_page()
        opened.set_default_timeout(15_000)
        opened.on("dialog", lambda dialog: dialog.accept())
        return opened

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


def sign_up(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.fill("input[name=password_again]", password)
    page.click("button.primary")


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button.primary")


def place_order(page: Page, number: int, charge: str, balance: str, shot: str | None = None, **fields: str) -> None:
    """Fill the new-order form's ``fields`` (by name), check the live charge and the balance after
    it, place the order and check its confirmation: the same figures, to the last digit."""
    for name, value in fields.items():
        page.fill(f"[name={name}]", value)
    expect(page.locator("#charge")).to_have_text(f"{charge} USD")
    expect(page.locator("#balance-after")).to_have_text(f"{balance} USD")
    if shot:
        screenshot(page, shot)
    page.click("button.primary")
    expect(page.locator(".banner.notice")).to_have_text(
        f"Order #{number} placed. Charged {charge} USD. Your balance is now {balance} USD."
    )


def answer_ticket(page: Page, subject: str, customer_wrote: str, answer: str) -> None:
    """As the operator: open the ticket from the menu, see the customer's words as text, answer."""
    page.click("nav.menu >> text=Tickets")
    page.click(f"#tickets >> text={subject}")
    expect(page.locator("#messages")).to_contain_text(customer_wrote)
    page.fill("#reply-form textarea[name=message]", answer)
    page.click("#reply-form button")
    expect(page.locator(".banner.notice")).to_have_text("Answer sent.")


def screenshot(page: Page, name: str) -> Path:
    """Save the page as test-artifacts/screenshots/NAME.png (kept by CI, two shown in the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
