"""Email on accounts over real HTTP and a real SMTP server: verification, the order gate, change, reset."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from smmpanel.clock import utcnow
from smmpanel.domain import messages as msg
from smmpanel.usecases import email_accounts
from tests.integration.test_web_customer import banner
from tests.support.cli import Cli
from tests.support.engine import wait_for
from tests.support.mail_panel import PASSWORD, MailPanel, mail_panel
from tests.support.smtp import html_of, link_in, smtp, text_of
from tests.support.visitor import Visitor

__all__ = ["mail_panel", "smtp"]  # fixtures

NEW_PASSWORD = "battery staple"
ORDER = {"link": "https://instagram.com/p/abc", "quantity": "100"}


@pytest.fixture
def visitor(mail_panel: MailPanel) -> Visitor:
    return Visitor(mail_panel.base_url)


def test_signup_mails_a_verification_link_that_works_once(mail_panel: MailPanel, visitor: Visitor) -> None:
    answer = visitor.sign_up("carol", PASSWORD, " Carol@Example.COM ")
    assert answer.status_code == 303
    mail = mail_panel.smtp.wait_for("carol@example.com", "Confirm your email address")
    assert mail["From"] == "panel@test.example"
    link = link_in(mail, "/verify-email")
    assert link.startswith(f"{mail_panel.base_url}/verify-email?token=")
    assert f'href="{link}"' in html_of(mail).replace("&amp;", "&")
    assert "not verified" in visitor.get("/account/notifications").text

    followed = visitor.get(link)
    assert followed.status_code == 303 and followed.headers["location"] == "/account/notifications"
    page = visitor.get("/account/notifications")
    assert banner(page, "notice") == "Your email address is verified."
    assert '<span class="status status-completed" id="email-state">verified</span>' in page.text

    again = visitor.get(link)
    assert again.status_code == 400
    assert email_accounts.INVALID_LINK in again.text.replace("&#39;", "'")
    forged = visitor.get(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    assert forged.status_code == 400


def test_signup_refuses_an_address_taken_or_malformed_and_keeps_what_was_typed(
    mail_panel: MailPanel, visitor: Visitor
) -> None:
    mail_panel.customer("dave", "dave@example.com", verified=False)
    taken = visitor.sign_up("dave2", PASSWORD, "DAVE@example.com")
    assert taken.status_code == 400
    assert banner(taken, "error") == "This email address is already used by another account"
    assert 'value="dave2"' in taken.text and 'value="DAVE@example.com"' in taken.text
    bad = visitor.sign_up("erin", PASSWORD, "erin\u202e@example.com")
    assert bad.status_code == 400 and banner(bad, "error") == "Enter a valid email address, e.g. name@example.com"


def test_an_unverified_customer_may_not_order_when_the_operator_requires_it(mail_panel: MailPanel) -> None:
    panel = mail_panel.panel
    service = panel.service()
    key = mail_panel.customer("alice", "alice@example.com", verified=False)
    assert "order" in panel.call(key, "add", service=service, **ORDER)  # not required yet

    mail_panel.configure(require_verified_email=True)
    assert panel.call(key, "add", service=service, **ORDER) == {"error": msg.EMAIL_NOT_VERIFIED}
    assert panel.balance("alice") == "99.91"  # 0.09 for the first order, nothing for the refused one

    customer = Visitor(mail_panel.base_url)
    customer.log_in("alice", PASSWORD)
    page = customer.submit("/orders/new", "/orders/new", service=str(service), **ORDER)
    assert page.status_code == 400 and banner(page, "error") == "Email not verified"
    assert 'value="https://instagram.com/p/abc"' in page.text

    mail_panel.verify("alice@example.com")
    assert panel.call(key, "add", service=service, link="https://instagram.com/p/abd", quantity="100") == {"order": 2}
    assert panel.balance("alice") == "99.82"
    assert panel.ledger_ok()


def test_changing_the_email_needs_the_password_reverifies_and_tells_the_old_address(
    mail_panel: MailPanel, visitor: Visitor
) -> None:
    mail_panel.customer("bob", "bob@example.com")
    visitor.log_in("bob", PASSWORD)
    wrong = visitor.submit("/account/notifications", "/account/email", email="bob@new.example", current_password="x")
    assert wrong.status_code == 400 and banner(wrong, "error") == "Current password is wrong"
    assert 'value="bob@new.example"' in wrong.text

    changed = visitor.submit(
        "/account/notifications", "/account/email", email="Bob@New.example", current_password=PASSWORD
    )
    assert changed.status_code == 303
    page = visitor.get("/account/notifications")
    assert "bob@new.example" in page.text and "not verified" in page.text
    told = mail_panel.smtp.wait_for("bob@example.com", "Your email address was changed")
    assert "from bob@example.com to bob@new.example" in text_of(told)
    link = link_in(mail_panel.smtp.wait_for("bob@new.example", "Confirm your email address"), "/verify-email")
    assert visitor.get(link).status_code == 303
    assert (
        '<span class="status status-completed" id="email-state">verified</span>'
        in visitor.get("/account/notifications").text
    )
    # The first address's verification link (already used at sign-up) opens nothing now.
    first = link_in(mail_panel.smtp.wait_for("bob@example.com", "Confirm your email address"), "/verify-email")
    assert visitor.get(first).status_code == 400


def test_a_reset_link_works_once_ends_every_session_and_expires(mail_panel: MailPanel) -> None:
    mail_panel.customer("alice", "alice@example.com", verified=False)
    elsewhere = Visitor(mail_panel.base_url)
    elsewhere.log_in("alice", PASSWORD)
    assert elsewhere.get("/orders/new").status_code == 200

    anonymous = Visitor(mail_panel.base_url)
    unknown = anonymous.submit("/forgot-password", "/forgot-password", email="nobody@example.com")
    known = anonymous.submit("/forgot-password", "/forgot-password", email="ALICE@example.com")
    assert unknown.status_code == known.status_code == 200
    assert banner(unknown, "notice") == banner(known, "notice") == email_accounts.RESET_SENT
    assert unknown.text.replace("nobody@example.com", "ALICE@example.com") == known.text.replace(
        *_csrf_pair(unknown.text, known.text)
    )

    mail = mail_panel.smtp.wait_for("alice@example.com", "Reset your password")
    assert "60 minutes" in text_of(mail)
    link = link_in(mail, "/reset-password")
    assert mail_panel.smtp.inbox.messages("nobody@example.com") == []

    form = anonymous.get(link)
    assert form.status_code == 200 and 'id="reset-form"' in form.text
    token = link.rpartition("token=")[2]
    differ = anonymous.submit(link, "/reset-password", token=token, password=NEW_PASSWORD, password_again="other")
    assert differ.status_code == 400 and banner(differ, "error") == "The two passwords differ"
    done = anonymous.submit(link, "/reset-password", token=token, password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/login"

    assert elsewhere.get("/orders/new").status_code == 303  # that session has ended
    used = anonymous.get(link)
    assert used.status_code == 400 and 'id="reset-form"' not in used.text
    replay = anonymous.submit(
        "/forgot-password", "/reset-password", token=token, password="third one", password_again="third one"
    )
    assert replay.status_code == 400
    again = Visitor(mail_panel.base_url)
    refused = again.submit("/login", "/login", username="alice", password=PASSWORD)
    assert refused.status_code == 400
    again.log_in("alice", NEW_PASSWORD)
    # Following the link proved the address: it is verified now.
    assert "not verified" not in again.get("/account/notifications").text

    again_at_once = anonymous.submit("/forgot-password", "/forgot-password", email="alice@example.com")
    assert banner(again_at_once, "notice") == email_accounts.RESET_SENT
    assert [m["event"] for m in mail_panel.queue()].count("password_reset") == 1  # within a minute: nothing sent
    user_id = mail_panel.user_id("alice")
    mail_panel.panel.run(lambda db: email_accounts.send_password_reset(db, user_id, mail_panel.base_url))
    wait_for_mails(mail_panel, "alice@example.com", "Reset your password", 2)
    later = link_in(mail_panel.smtp.inbox.messages("alice@example.com")[-1], "/reset-password")
    mail_panel.expire_tokens(utcnow() - timedelta(seconds=1))
    assert anonymous.get(later).status_code == 400


def _csrf_pair(first: str, second: str) -> tuple[str, str]:
    """The two pages' CSRF tokens, so the pages can be compared without them."""
    tokens = [re.search(r'name="csrf_token" value="([^"]+)"', page) for page in (first, second)]
    assert tokens[0] and tokens[1]
    return tokens[1].group(1), tokens[0].group(1)


def wait_for_mails(mail_panel: MailPanel, to: str, subject: str, count: int) -> None:
    wait_for(
        lambda: len([m for m in mail_panel.smtp.inbox.messages(to) if subject in str(m["Subject"])]) >= count,
        f"{count} mails {subject!r} to {to}",
    )


def test_the_operator_sends_a_customer_a_reset_link(mail_panel: MailPanel) -> None:
    mail_panel.customer("alice", "alice@example.com")
    user_id = mail_panel.user_id("alice")
    mail_panel.panel.run(lambda db: email_accounts.send_password_reset(db, user_id, mail_panel.base_url))
    link = link_in(mail_panel.smtp.wait_for("alice@example.com", "Reset your password"), "/reset-password")
    assert Visitor(mail_panel.base_url).get(link).status_code == 200


def test_cli_creates_a_customer_with_an_email_and_mails_the_link(mail_panel: MailPanel, tmp_path: Path) -> None:
    cli = Cli(mail_panel.panel.database_url, tmp_path)
    created = cli.json("user", "create", "frank", "--email", "Frank@Example.com", "--site", "https://panel.example")
    assert created["username"] == "frank"
    mail = mail_panel.smtp.wait_for("frank@example.com", "Confirm your email address")
    assert link_in(mail, "/verify-email").startswith("https://panel.example/verify-email?token=")
    bad = cli("user", "create", "grace", "--email", "not-an-address")
    assert bad.returncode == 1 and bad.stderr.strip().endswith("Enter a valid email address, e.g. name@example.com")
