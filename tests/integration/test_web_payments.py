"""Paying in on the dashboard over real HTTP: /funds, the payment page, the operator's pages."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

import pytest

from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, audit
from smmpanel.usecases.gateways import GatewayChanges, add_gateway, gateway_named
from tests.integration.test_web_admin import PASSWORD, Session, banner, followed
from tests.support.panel import Panel
from tests.support.server import LiveServer


@pytest.fixture
def site(database_url: str, start_server: Callable[..., LiveServer]) -> Iterator[tuple[Panel, LiveServer]]:
    server = start_server()
    panel = Panel(database_url, server.api_url)
    panel.run(lambda db: accounts.create_customer(db, "boss", password=PASSWORD, admin=True))
    panel.run(lambda db: accounts.create_customer(db, "alice", password=PASSWORD))
    changes = GatewayChanges(
        display_name="Bank transfer",
        min_amount=parse_amount("10"),
        max_amount=parse_amount("1000"),
        bonus_percent=parse_amount("5"),
        bonus_from=parse_amount("100"),
        instructions="IBAN DE00 1234 5678",
    )
    panel.run(lambda db: add_gateway(db, "manual", "bank", options={}, changes=changes))
    yield panel, server
    panel.close()


def payment_id(location: str) -> int:
    found = re.fullmatch(r"/funds/payments/(\d+)", location)
    assert found is not None, location
    return int(found.group(1))


def test_a_transfer_from_funds_to_the_operators_approval(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    alice, boss = Session(server.base_url, "alice"), Session(server.base_url, "boss")
    try:
        funds = alice.get("/funds")
        assert "Bank transfer" in funds.text and "From 10.00" in funds.text and "up to 1000.00" in funds.text
        assert "+5.00 % bonus" in funds.text and "from 100.00" in funds.text and "IBAN DE00 1234 5678" in funds.text
        # A refused amount: the page again, with the message and what was typed.
        refused = alice.post("/funds/pay", gateway="bank", amount="9.99", reference="MY-REF-1")
        assert refused.status_code == 400
        assert banner(refused, "error") == "The minimum for this method is 10.00"
        assert 'value="9.99"' in refused.text and 'value="MY-REF-1"' in refused.text
        bad = alice.post("/funds/pay", gateway="bank", amount="ten", reference="MY-REF-1")
        assert banner(bad, "error") == "Enter the amount as a number, e.g. 10 or 12.50"
        gone = alice.post("/funds/pay", gateway="nope", amount="10", reference="X")
        assert banner(gone, "error") == "This payment method is not available"
        sent = alice.post("/funds/pay", gateway="bank", amount="150", reference="MY-REF-1")
        assert sent.status_code == 303
        paid = payment_id(sent.headers["location"])
        waiting = followed(alice, sent)
        assert "waiting for our review" in waiting.text and "MY-REF-1" in waiting.text
        again = alice.post("/funds/pay", gateway="bank", amount="150", reference="MY-REF-1")
        assert banner(again, "error") == "This transfer reference was already submitted"
        # The operator's side: the review list, the approval, the payment's page.
        review = boss.get("/admin/payments/review")
        assert f'data-payment="{paid}"' in review.text and "MY-REF-1" in review.text
        approved = boss.post(f"/admin/payments/{paid}/approve", back="/admin/payments/review")
        assert approved.headers["location"] == "/admin/payments/review"
        assert banner(followed(boss, approved), "notice") == f"Payment #{paid} approved: 150.00 USD."
        twice = boss.post(f"/admin/payments/{paid}/approve")
        assert twice.status_code == 400 and banner(twice, "error") == f"payment {paid} is completed, not pending"
        page = boss.get(f"/admin/payments/{paid}")
        assert "approved by boss: credited 150.00" in html.unescape(page.text)
        listed = boss.get("/admin/payments", status="completed", customer="alice")
        assert f'data-payment="{paid}"' in listed.text
        assert re.search(r'id="credited">150.00 USD<', listed.text)
        assert "No payment matches" in boss.get("/admin/payments", status="failed").text
        assert banner(boss.get("/admin/payments", since="yesterday"), "error") == "Since: write a date as YYYY-MM-DD"
        # The customer sees the credited amount, the bonus, and both ledger entries.
        done = alice.get(f"/funds/payments/{paid}")
        assert "Credited 150.00 USD and a bonus of 7.50" in done.text
        assert panel.balance("alice") == "157.50"
        # The refund takes deposit and bonus back, with the operator's note.
        refund = boss.post(f"/admin/payments/{paid}/refund", note="sent back by bank")
        assert banner(followed(boss, refund), "notice") == f"Payment #{paid} refunded: 150.00 USD."
        assert panel.balance("alice") == "0.00"
        actions = [entry.action for entry in panel.run(lambda db: audit.audit_page(db)).items]
        assert actions[:2] == ["payment.refund", "payment.approve"]
    finally:
        alice.close()
        boss.close()
    assert panel.ledger_ok()


def test_a_rejected_transfer_tells_the_customer_why(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    alice, boss = Session(server.base_url, "alice"), Session(server.base_url, "boss")
    try:
        paid = payment_id(alice.post("/funds/pay", gateway="bank", amount="20", reference="R-2").headers["location"])
        blank = boss.post(f"/admin/payments/{paid}/reject", reason=" ")
        assert banner(blank, "error") == "Say why the deposit is rejected: the customer sees it"
        boss.post(f"/admin/payments/{paid}/reject", reason="No transfer with this reference arrived")
        assert (
            "did not go through: No transfer with this reference arrived" in alice.get(f"/funds/payments/{paid}").text
        )
        history = alice.get("/funds/payments").text
        assert f'data-payment="{paid}"' in history and "Failed" in history
        assert boss.get(f"/funds/payments/{paid}").status_code == 404  # only the customer's own
    finally:
        alice.close()
        boss.close()
    assert panel.balance("alice") == "0.00"


def test_the_operator_adds_edits_and_disables_gateways(site: tuple[Panel, LiveServer]) -> None:
    panel, server = site
    boss = Session(server.base_url, "boss")
    try:
        missing = boss.post("/admin/gateways", kind="stripe", name="card", publishable_key="pk_1", secret_key="sk_1")
        assert missing.status_code == 400 and banner(missing, "error") == "stripe gateways need --webhook-secret"
        assert 'value="pk_1"' in missing.text and "sk_1" not in missing.text  # secrets are never sent back
        added = boss.post(
            "/admin/gateways",
            kind="stripe",
            name="card",
            publishable_key="pk_1",
            secret_key="sk_test_secret1",
            webhook_secret="whsec_abc123",
            min_amount="1",
            bonus_percent="2.5",
        )
        assert "Register /payments/webhook/card" in banner(followed(boss, added), "notice")
        edit = boss.get("/admin/gateways/card")
        assert "…ret1" in edit.text and "sk_test_secret1" not in edit.text
        # As the browser posts it: every field filled in with what the page showed, one changed.
        form = {"publishable_key": "pk_2", "display_name": "Cards", "min_amount": "2", "bonus_percent": "2.50"}
        saved = boss.post("/admin/gateways/card", **form)
        assert banner(followed(boss, saved), "notice") == "Gateway card saved."
        boss.post("/admin/gateways/bank/switch")
        listed = boss.get("/admin/gateways").text
        assert re.search(r'data-gateway="bank">.*?disabled', listed, re.S)
    finally:
        boss.close()
    alice = Session(server.base_url, "alice")
    try:
        funds = alice.get("/funds").text
        assert 'data-gateway="bank"' not in funds and "Cards" in funds and "+2.50 % bonus" in funds
    finally:
        alice.close()
    gateway = panel.run(lambda db: gateway_named(db, "card"))
    assert (gateway.config["secret_key"], gateway.config["publishable_key"], gateway.min_amount) == (
        "sk_test_secret1",
        "pk_2",
        parse_amount("2"),
    )
