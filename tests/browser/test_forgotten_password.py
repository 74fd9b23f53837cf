"""A forgotten password in a real browser: sign up with an email, forget, follow the mailed link, log in."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from smmpanel.usecases import email_accounts
from tests.browser.conftest import log_in, screenshot
from tests.support.mail_panel import MAIL_SETTINGS
from tests.support.server import LiveServer
from tests.support.smtp import SmtpServer, link_in, smtp

__all__ = ["smtp"]  # fixture


def test_a_customer_resets_a_forgotten_password_from_the_mailed_link(
    new_page: Callable[[], Page], start_server: Callable[..., LiveServer], smtp: SmtpServer
) -> None:
    base = start_server(**MAIL_SETTINGS, **smtp.settings).base_url
    page, other_device = new_page(), new_page()

    page.goto(f"{base}/signup")
    page.fill("input[name=username]", "carol")
    page.fill("input[name=email]", "carol@example.com")
    page.fill("input[name=password]", "correct horse")
    page.fill("input[name=password_again]", "correct horse")
    page.click("button.primary")
    expect(page).to_have_url(f"{base}/orders/new")
    verify = link_in(smtp.wait_for("carol@example.com", "Confirm your email address"), "/verify-email")
    page.goto(verify)
    expect(page.locator(".banner.notice")).to_have_text("Your email address is verified.")
    expect(page.locator("#email-state")).to_have_text("verified")
    log_in(other_device, base, "carol", "correct horse")
    expect(other_device).to_have_url(f"{base}/orders/new")
    page.click("text=Log out")

    page.goto(f"{base}/login")
    page.click("#forgot-password")
    page.fill("input[name=email]", "Carol@Example.com")
    page.click("#forgot-form button")
    expect(page.locator(".banner.notice")).to_have_text(email_accounts.RESET_SENT)
    screenshot(page, "forgot-password")

    link = link_in(smtp.wait_for("carol@example.com", "Reset your password"), "/reset-password")
    page.goto(link)
    page.fill("input[name=password]", "battery staple")
    page.fill("input[name=password_again]", "battery staple")
    page.click("#reset-form button")
    expect(page).to_have_url(f"{base}/login")
    expect(page.locator(".banner.notice")).to_have_text(
        "Your password is changed and you are signed out everywhere. Log in with it."
    )

    log_in(page, base, "carol", "correct horse")
    expect(page.locator(".banner.error")).to_have_text("Invalid username or password")
    log_in(page, base, "carol", "battery staple")
    expect(page).to_have_url(f"{base}/orders/new")
    other_device.goto(f"{base}/orders/new")  # the session on the other device has ended
    expect(other_device).to_have_url(f"{base}/login?next=/orders/new")

    page.goto(link)  # a used link shows why, and no form
    expect(page.locator(".banner.error")).to_have_text(email_accounts.INVALID_LINK)
    expect(page.locator("#reset-form")).to_have_count(0)
