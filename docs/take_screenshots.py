"""Screenshots of the main pages, desktop and phone, for the README: ``make screenshots``.

Starts a demo panel (``smmpanel serve --demo`` on a fresh SQLite file, its simulated provider
moving the orders), logs in as the demo customer and the demo operator in Debian's Chromium,
places a few orders and a ticket so the lists have rows, and writes
``docs/screenshots/<side>-<page>-<phone|desktop>.png``. Not a test: it checks nothing.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("SMMPANEL_CHROMIUM", "/usr/bin/chromium")
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
CUSTOMER_PAGES = {
    "login": "/login",
    "new-order": "/orders/new",
    "orders": "/orders",
    "funds": "/funds",
    "api": "/api",
}
ADMIN_PAGES = {
    "overview": "/admin",
    "orders": "/admin/orders",
    "services": "/admin/services",
    "tickets": "/admin/tickets",
}
LINKS = [
    "https://instagram.com/p/Cz8x2LmNq4T",
    "https://www.tiktok.com/@someone/video/73190264518",
    "https://youtu.be/dQw4w9WgXcQ",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo(directory: Path) -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    """The demo panel and the passwords it printed (``demo`` and ``admin``)."""
    port = free_port()
    database = f"sqlite:///{directory / 'panel.db'}"
    env = {**os.environ, "SMMPANEL_DATABASE_URL": database, "SMMPANEL_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "smmpanel", "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    passwords: dict[str, str] = {}
    for line in server.stdout:
        found = re.search(r"demo (customer|operator) '(\w+)'.*dashboard password: (\S+)", line)
        if found:
            passwords[found.group(2)] = found.group(3)
        if len(passwords) == 2:
            break
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{base}/login", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    return server, base, passwords


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_load_state()


def place_orders(page: Page, base: str) -> None:
    """A few orders and a ticket, so the lists are not empty."""
    page.goto(f"{base}/orders/new")
    for link in LINKS:
        page.goto(f"{base}/orders/new")
        page.fill("[name=link]", link)
        page.fill("[name=quantity]", "500")
        page.click("form#new-order button.primary")
        page.wait_for_load_state()
    page.goto(f"{base}/tickets/new")
    page.fill("[name=subject]", "Order is slow")
    page.fill("[name=message]", "My first order has not started yet. Could you check it?")
    page.click("main form button.primary")


def shoot(page: Page, base: str, side: str, pages: dict[str, str], size: str) -> None:
    for name, path in pages.items():
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(OUT / f"{side}-{name}-{size}.png"), full_page=size == "desktop")
    if size == "phone" and page.locator(".menu-button").count():
        page.click(".menu-button")  # the folded menu, opened
        page.screenshot(path=str(OUT / f"{side}-menu-{size}.png"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        server, base, passwords = start_demo(Path(directory))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
                for size, viewport in SIZES.items():
                    visitor = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
                    shoot(visitor, base, "customer", {"login": "/login"}, size)
                    customer = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
                    log_in(customer, base, "demo", passwords["demo"])
                    if size == "desktop":
                        place_orders(customer, base)
                        time.sleep(3)  # the simulated provider takes the orders
                    shoot(customer, base, "customer", {k: v for k, v in CUSTOMER_PAGES.items() if k != "login"}, size)
                    operator = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
                    log_in(operator, base, "admin", passwords["admin"])
                    shoot(operator, base, "admin", ADMIN_PAGES, size)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
