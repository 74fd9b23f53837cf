"""``smmpanel gateway …`` and ``smmpanel payment …`` as real processes, on both back ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smmpanel.db.unit_of_work import Database
from smmpanel.simulators.localstripe import LocalStripe
from smmpanel.usecases import payments
from tests.support.cli import Cli
from tests.support.panel import Panel


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(database_url, tmp_path, public_url="https://panel.example")


@pytest.fixture
def ops(database_url: str) -> Iterator[Panel]:
    panel = Panel(database_url)
    panel.customer("alice", "0")
    yield panel
    panel.close()


def test_gateways_are_added_listed_updated_and_disabled(cli: Cli, ops: Panel) -> None:
    added = cli.json(
        "gateway", "add", "stripe", "--name", "card", "--secret-key", "sk_test_1234567", "--publishable-key",
        "pk_test_1", "--webhook-secret", "whsec_abcdef", "--min", "1", "--max", "500", "--bonus-percent", "5",
    )  # fmt: skip
    assert added["name"] == "card"
    assert added["webhook_path"] == "/payments/webhook/card"
    assert (added["min"], added["max"], added["bonus_percent"], added["enabled"]) == ("1.00", "500.00", "5.00", True)
    # Secrets are never shown back in full; defaults are filled in.
    assert added["options"]["secret_key"] == "…4567"
    assert added["options"]["webhook_secret"] == "…cdef"
    assert added["options"].get("api_base", "https://api.stripe.com") == "https://api.stripe.com"
    manual = cli.json("gateway", "add", "manual", "--name", "bank", "--instructions", "IBAN DE00 1234")
    assert manual["webhook_path"] == "/payments/webhook/bank"
    missing = cli.fails("gateway", "add", "stripe", "--name", "x", "--secret-key", "sk")
    assert "the following arguments are required: --publishable-key, --webhook-secret" in missing
    assert "already exists" in cli.fails("gateway", "add", "manual", "--name", "bank")
    assert "the maximum must not be below the minimum" in cli.fails("gateway", "update", "card", "--min", "600")
    assert "manual gateways take no option 'secret_key'" in cli.fails(
        "gateway", "update", "bank", "--secret-key", "sk_x"
    )
    updated = cli.json("gateway", "update", "card", "--bonus-from", "50", "--no-max", "--display-name", "Visa")
    assert (updated["bonus_from"], updated["max"], updated["display_name"]) == ("50.00", None, "Visa")
    assert cli.json("gateway", "disable", "bank")["enabled"] is False
    listed = cli.json("gateway", "list")["gateways"]
    assert [(g["name"], g["kind"], g["enabled"]) for g in listed] == [
        ("card", "stripe", True),
        ("bank", "manual", False),
    ]


def test_a_payment_link_through_localstripe_then_list_show_and_refund(cli: Cli, ops: Panel) -> None:
    with LocalStripe() as fake:
        cli.json(
            "gateway", "add", "stripe", "--name", "card", "--secret-key", "sk_test_1", "--publishable-key", "pk_1",
            "--webhook-secret", "whsec_1", "--api-base", fake.base_url, "--js-url", fake.js_url,
        )  # fmt: skip
        link = cli.json("payment", "link", "alice", "25.50", "--gateway", "card")
        assert link["reference"].startswith("pi_")
        assert link["url"] == f"https://panel.example/funds/payments/{link['payment']}"
        assert "25.505 cannot be paid this way" in cli.fails("payment", "link", "alice", "25.505", "--gateway", "card")
    assert "no customer 'bob'" in cli.fails("payment", "link", "bob", "1", "--gateway", "card")
    listed = cli.json("payment", "list", "--user", "alice", "--status", "pending")["payments"]
    assert [(p["id"], p["user"], p["gateway"], p["amount"], p["status"], p["reference"]) for p in listed] == [
        (link["payment"], "alice", "card", "25.50", "pending", link["reference"])
    ]
    assert cli.json("payment", "list", "--status", "completed") == {"payments": []}
    assert "only a completed payment" in cli.fails("payment", "refund", str(link["payment"]), "--note", "x")
    shown = cli.json("payment", "show", str(link["payment"]))
    assert (shown["status"], shown["events"]) == ("pending", [])


def test_manual_transfers_are_approved_or_rejected_from_the_cli(cli: Cli, ops: Panel) -> None:
    cli.json("gateway", "add", "manual", "--name", "bank")
    context = payments.PaymentContext("https://panel.example", "USD")

    def submit(reference: str) -> int:
        async def work(db: Database) -> int:
            async with db.read() as repos:
                alice = await repos.users.by_username("alice")
            assert alice is not None
            checkout = await payments.start_payment(
                db,
                context,
                user_id=alice.id,
                gateway_name="bank",
                amount=10_00000,
                payer_reference=reference,
            )
            return checkout.payment.id

        return ops.run(work)

    first, second = submit("TX-1"), submit("TX-2")
    assert cli.json("payment", "approve", str(first))["status"] == "completed"
    assert "not pending" in cli.fails("payment", "approve", str(first))
    rejected = cli.json("payment", "reject", str(second), "--reason", "Not received")
    assert (rejected["status"], rejected["note"]) == ("failed", "Not received")
    refunded = cli.json("payment", "refund", str(first), "--note", "customer asked")
    assert refunded["status"] == "refunded"
    assert ops.balance("alice") == "0.00"
    assert ops.ledger_ok()
