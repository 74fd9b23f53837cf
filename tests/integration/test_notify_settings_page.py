"""The operator's email and notification settings page: who may see it, secrets never shown, bad input kept."""

from __future__ import annotations

from collections.abc import Callable

from smmpanel.config import Settings
from smmpanel.usecases import accounts, audit
from smmpanel.usecases.notify_settings import notify_settings
from tests.integration.test_web_customer import banner
from tests.support.panel import Panel
from tests.support.server import LiveServer
from tests.support.visitor import Visitor

PAGE = "/admin/settings/notifications"
PASSWORD = "correct horse"
SECRET = "smtp-pass-9Zq"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
FIELDS = {
    "smtp_host": "mail.example.net",
    "smtp_port": "587",
    "smtp_tls": "starttls",
    "smtp_username": "panel",
    "mail_from": "Panel <noreply@panel.example>",
    "public_url": "https://panel.example/",
    "operator_email": "Boss@Panel.example",
    "telegram_chat_id": "-1001",
    "require_verified_email": "1",
    "on_ticket_answered": "1",
    "on_new_ticket": "1",
}


def test_the_operator_sets_smtp_and_telegram_and_secrets_are_never_shown(
    start_server: Callable[..., LiveServer], database_url: str
) -> None:
    server = start_server(smtp_host="env.example", smtp_port=2525)
    panel = Panel(database_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    panel.run(lambda db: accounts.create_customer(db, "alice", password=PASSWORD))
    customer = Visitor(server.base_url)
    customer.log_in("alice", PASSWORD)
    assert customer.get(PAGE).status_code == 404

    operator = Visitor(server.base_url)
    operator.log_in("boss", PASSWORD)
    shown = operator.get(PAGE)
    assert 'value="env.example"' in shown.text and 'value="2525"' in shown.text  # the environment's defaults

    bad = operator.submit(PAGE, PAGE, **{**FIELDS, "smtp_port": "many"}, smtp_password=SECRET)
    assert bad.status_code == 400 and banner(bad, "error") == "The SMTP port must be a number from 1 to 65535"
    assert 'value="mail.example.net"' in bad.text and SECRET not in bad.text
    wrong_tls = operator.submit(PAGE, PAGE, **{**FIELDS, "smtp_tls": "maybe"})
    assert banner(wrong_tls, "error") == "TLS must be one of none, starttls, ssl"

    saved = operator.submit(PAGE, PAGE, **FIELDS, smtp_password=SECRET, telegram_token=TOKEN)
    assert saved.status_code == 303
    page = operator.get(PAGE)
    assert banner(page, "notice") == "Notification settings saved."
    assert SECRET not in page.text and TOKEN not in page.text
    assert "(set: …-9Zq; empty keeps it)" in page.text and "(set: …Dsaw; empty keeps it)" in page.text

    operator.submit(PAGE, PAGE, **FIELDS)  # the secrets' fields left empty: both kept
    env = Settings(database_url=database_url, smtp_host="env.example", smtp_port=2525)
    current = panel.run(lambda db: notify_settings(db, env))
    assert (current.smtp.host, current.smtp.port, current.smtp.tls) == ("mail.example.net", 587, "starttls")
    assert (current.smtp.password, current.telegram_token) == (SECRET, TOKEN)
    assert (current.public_url, current.operator_email, current.require_verified_email) == (
        "https://panel.example",
        "boss@panel.example",
        True,
    )
    assert current.off == {
        "order_finished",
        "refill_finished",
        "payment_credited",
        "low_balance",
        "order_attention",
        "provider_alert",
        "deposit_to_review",
    }

    operator.submit(PAGE, PAGE, **FIELDS, clear_smtp_password="1")
    assert panel.run(lambda db: notify_settings(db, env)).smtp.password == ""
    entries = panel.run(lambda db: audit.audit_page(db)).items
    changes = [entry for entry in entries if entry.target == "settings notifications"]
    assert [entry.actor for entry in changes] == ["boss", "boss"]
    assert changes[-1].after is not None and changes[-1].after["smtp_password"] == "changed"
    assert SECRET not in repr([(entry.before, entry.after) for entry in changes])
