"""The operator's command line, run as a real ``python -m smmpanel`` process on both back ends.

Each process costs about a second, so related checks share one test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from smmpanel.db.repositories import Customer
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.errors import Refused
from smmpanel.money import parse_amount
from smmpanel.usecases import accounts, orders, refills
from tests.support.cli import Cli
from tests.support.databases import SqliteTemplate
from tests.support.panel import Panel

URL_SAFE_KEY = re.compile(r"^[A-Za-z0-9_-]{22,}$")
ORDER_FIELDS = {"id", "user", "service", "link", "quantity", "charge", "status", "start_count", "remains", "created_at"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(database_url, tmp_path)


@pytest.fixture
def ops(database_url: str) -> Iterator[Panel]:
    """The operator side through the use cases, to set up what the CLI then reads."""
    panel = Panel(database_url)
    yield panel
    panel.close()


def customer_of(ops: Panel, key: str) -> Customer | None:
    return ops.run(lambda db: accounts.authenticate(db, key))


def place(ops: Panel, key: str, **params: object) -> int:
    async def work(db: Database) -> int:
        customer = await accounts.authenticate(db, key)
        assert customer is not None
        return await orders.place_order(db, customer.id, {name: str(value) for name, value in params.items()})

    return ops.run(work)


def set_balance_behind_the_ledgers_back(ops: Panel, username: str, balance: int) -> None:
    async def work(db: Database) -> None:
        async with db.engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE users SET balance = :balance WHERE username = :username"),
                {"balance": balance, "username": username},
            )

    ops.run(work)


# --- db --------------------------------------------------------------------------------


def test_db_upgrade_on_a_migrated_database(cli: Cli) -> None:
    assert cli.json("db", "upgrade") == {"upgraded": True}


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    cli = Cli(f"sqlite:///{tmp_path / 'new.db'}", tmp_path)
    assert "db upgrade" in cli.fails("user", "list")  # no schema yet: a hint, not a traceback
    assert "up to date" in cli.text("db", "upgrade")
    assert cli.json("user", "list") == {"users": []}


# --- users -----------------------------------------------------------------------------


def test_user_create_fund_and_list(cli: Cli, ops: Panel) -> None:
    created = cli.json("user", "create", "alice", "--balance", "10")
    assert set(created) == {"username", "api_key", "balance"}
    assert (created["username"], created["balance"]) == ("alice", "10.00")
    assert URL_SAFE_KEY.match(created["api_key"])
    alice = customer_of(ops, created["api_key"])
    assert alice is not None and alice.username == "alice" and alice.balance == parse_amount("10")

    assert "already exists" in cli.fails("user", "create", "alice")

    assert cli.json("user", "fund", "alice", "5.5", "--note", "x") == {
        "username": "alice",
        "amount": "5.50",
        "balance": "15.50",
    }
    assert cli.json("user", "fund", "alice", "-0.25", "--note", "correction")["balance"] == "15.25"
    assert "below zero" in cli.fails("user", "fund", "alice", "-15.25001")
    assert "no user named 'nobody'" in cli.fails("user", "fund", "nobody", "1")

    cli.json("user", "create", "bob")
    listing = cli.json("user", "list")["users"]
    assert [(u["username"], u["balance"], u["disabled"]) for u in listing] == [
        ("alice", "15.25", False),
        ("bob", "0.00", False),
    ]
    assert all(ISO_UTC.match(u["created_at"]) for u in listing)
    table = cli.text("user", "list")
    assert "alice" in table and "15.25" in table and "bob" in table

    shown = cli.json("ledger", "show", "alice")
    assert shown["username"] == "alice" and shown["balance"] == "15.25"
    assert [(e["kind"], e["amount"], e["balance_after"], e["note"]) for e in shown["entries"]] == [
        ("adjustment", "-0.25", "15.25", "correction"),
        ("topup", "5.50", "15.50", "x"),
        ("topup", "10.00", "10.00", "opening balance"),
    ]
    assert cli.json("ledger", "verify") == {"ok": True, "mismatches": []}


def test_user_key_rotation_and_disabling(cli: Cli, ops: Panel) -> None:
    old_key = ops.customer("alice", balance="3")
    assert "--rotate" in cli.fails("user", "key", "alice")  # keys cannot be shown again
    assert customer_of(ops, old_key) is not None

    rotated = cli.json("user", "key", "alice", "--rotate")
    assert set(rotated) == {"username", "api_key"} and rotated["username"] == "alice"
    new_key = rotated["api_key"]
    assert URL_SAFE_KEY.match(new_key) and new_key != old_key
    assert customer_of(ops, old_key) is None
    alice = customer_of(ops, new_key)
    assert alice is not None and alice.username == "alice" and alice.balance == parse_amount("3")

    assert cli.json("user", "disable", "alice") == {"username": "alice", "disabled": True}
    assert customer_of(ops, new_key) is None
    assert cli.json("user", "list")["users"][0]["disabled"] is True
    assert cli.json("user", "enable", "alice") == {"username": "alice", "disabled": False}
    assert customer_of(ops, new_key) is not None


def test_json_flag_before_the_command(cli: Cli, ops: Panel) -> None:
    ops.customer("alice", balance="1")
    done = cli("--json", "user", "list")
    assert done.returncode == 0 and done.stderr == ""
    assert json.loads(done.stdout)["users"][0]["username"] == "alice"


# --- services --------------------------------------------------------------------------


def test_service_commands(cli: Cli, ops: Panel) -> None:
    created = cli.json(
        "service", "create", "--name", "Followers", "--category", "Instagram", "--type", "Default",
        "--rate", "0.9", "--min", "50", "--max", "10000", "--refill", "--cancel", "--description", "30-day refill",
    )  # fmt: skip
    assert set(created) == {"service"} and isinstance(created["service"], int)
    first = created["service"]
    second = cli.json(
        "service", "create", "--name", "Views", "--category", "TikTok", "--type", "package",
        "--rate", "2.5", "--min", "1", "--max", "1",
    )["service"]  # fmt: skip
    assert second != first

    services = {s["service"]: s for s in cli.json("service", "list")["services"]}
    assert services[first] == {
        "service": first,
        "name": "Followers",
        "category": "Instagram",
        "type": "Default",
        "rate": "0.90",
        "min": 50,
        "max": 10000,
        "refill": True,
        "cancel": True,
        "description": "30-day refill",
        "enabled": True,
        "refill_days": 30,
        "deny_duplicate_link": False,
    }
    assert (services[second]["type"], services[second]["rate"], services[second]["refill"]) == (
        "Package",
        "2.50",
        False,
    )

    updated = cli.json("service", "update", str(first), "--rate", "1.5")
    assert updated == {**services[first], "rate": "1.50"}
    assert cli.json("service", "disable", str(first)) == {**services[first], "rate": "1.50", "enabled": False}
    listing = {s["service"]: s for s in cli.json("service", "list")["services"]}
    assert (listing[first]["enabled"], listing[first]["rate"]) == (False, "1.50")
    assert listing[second]["enabled"] is True

    # a disabled service sells nothing
    key = ops.customer("alice", balance="100")
    with pytest.raises(Refused, match=r"^Incorrect service ID$"):
        place(ops, key, service=first, link="https://x.test/a", quantity=100)
    assert ops.balance("alice") == "100.00"

    assert "no service 999" in cli.fails("service", "update", "999", "--rate", "1")
    assert "min" in cli.fails("service", "update", str(second), "--min", "5")  # min above max


# --- orders ----------------------------------------------------------------------------


def test_order_list_and_manual_fulfilment(cli: Cli, ops: Panel) -> None:
    service = ops.service(rate="1.23457", min=10, max=10_000)
    alice = ops.customer("alice", balance="100")
    bob = ops.customer("bob", balance="100")
    first = place(ops, alice, service=service, link="https://x.test/1", quantity=1000)
    second = place(ops, bob, service=service, link="https://x.test/2", quantity=500)
    third = place(ops, alice, service=service, link="https://x.test/3", quantity=2000)

    everything = cli.json("order", "list")["orders"]
    assert [o["id"] for o in everything] == [third, second, first]  # newest first
    assert all(set(o) >= ORDER_FIELDS for o in everything)
    assert all(ISO_UTC.match(o["created_at"]) for o in everything)
    newest = everything[0]
    assert {k: newest[k] for k in ORDER_FIELDS - {"created_at"}} == {
        "id": third,
        "user": "alice",
        "service": service,
        "link": "https://x.test/3",
        "quantity": 2000,
        "charge": "2.46914",
        "status": "Pending",
        "start_count": 0,
        "remains": 2000,
    }
    assert [o["id"] for o in cli.json("order", "list", "--user", "alice")["orders"]] == [third, first]
    assert [o["id"] for o in cli.json("order", "list", "--status", "pending", "--limit", "1")["orders"]] == [third]

    # Partial: charge × remains / quantity rounded down (1.23457 × 4 / 1000 = 0.00493828 → 0.00493), once
    balance = parse_amount(ops.balance("alice"))
    partial = cli.json("order", "update", str(first), "--status", "Partial", "--remains", "4", "--start-count", "120")
    assert (partial["status"], partial["remains"], partial["start_count"]) == ("Partial", 4, 120)
    assert (partial["charge"], partial["refunded"]) == ("1.23457", "0.00493")
    assert parse_amount(ops.balance("alice")) == balance + 493
    assert "Order is already Partial" in cli.fails(
        "order", "update", str(first), "--status", "Partial", "--remains", "9"
    )
    assert "Order is already Partial" in cli.fails("order", "update", str(first), "--status", "Canceled")
    cli("order", "update", str(first), "--status", "Partial", "--remains", "4")  # a repeat pays nothing more
    assert parse_amount(ops.balance("alice")) == balance + 493

    # Canceled: the whole charge back; Completed: nothing back
    assert cli.json("order", "update", str(second), "--status", "Canceled")["refunded"] == "0.61729"
    assert ops.balance("bob") == "100.00"
    assert cli.json("order", "update", str(third), "--status", "Completed")["remains"] == 0
    assert "Order is already Completed" in cli.fails("order", "update", str(third), "--status", "Canceled")
    assert parse_amount(ops.balance("alice")) == balance + 493

    canceled = cli.json("order", "list", "--status", "Canceled")["orders"]
    assert [(o["id"], o["user"], o["remains"]) for o in canceled] == [(second, "bob", 500)]
    _, entries = ops.run(lambda db: accounts.ledger_of(db, "alice", 100))
    assert [(e.order_id, e.amount) for e in entries if e.kind == "refund"] == [(first, 493)]
    assert ops.ledger_ok()

    assert "no order 999" in cli.fails("order", "update", "999", "--status", "Completed")
    assert "nothing to change" in cli.fails("order", "update", str(first))
    assert "no user named 'carol'" in cli.fails("order", "list", "--user", "carol")


# --- refills ---------------------------------------------------------------------------


def test_refill_list_and_update(cli: Cli, ops: Panel) -> None:
    service = ops.service(refill=True, refill_days=30)
    key = ops.customer("alice", balance="10")
    order_id = place(ops, key, service=service, link="https://x.test/r", quantity=100)
    ops.update_order(order_id, OrderStatus.COMPLETED.value)

    async def ask(db: Database) -> int | str:
        customer = await accounts.authenticate(db, key)
        assert customer is not None
        return (await refills.request_refills(db, customer.id, [order_id]))[order_id]

    refill_id = ops.run(ask)
    assert isinstance(refill_id, int)

    pending = cli.json("refill", "list")["refills"]
    assert len(pending) == 1
    assert {k: pending[0][k] for k in ("id", "order", "user", "status")} == {
        "id": refill_id,
        "order": order_id,
        "user": "alice",
        "status": "Pending",
    }
    assert ISO_UTC.match(pending[0]["created_at"])

    assert cli.json("refill", "update", str(refill_id), "--status", "Completed") == {
        "id": refill_id,
        "order": order_id,
        "status": "Completed",
    }
    assert "Refill is already Completed" in cli.fails("refill", "update", str(refill_id), "--status", "Rejected")
    assert cli.json("refill", "list", "--status", "Pending") == {"refills": []}
    assert [r["status"] for r in cli.json("refill", "list", "--status", "completed")["refills"]] == ["Completed"]
    assert "invalid value 'Done'" in cli.fails("refill", "update", str(refill_id), "--status", "Done")


# --- ledger ----------------------------------------------------------------------------


def test_ledger_verify_names_a_corrupted_balance(cli: Cli, ops: Panel) -> None:
    ops.customer("alice", balance="10")
    ops.customer("bob", balance="20")
    assert cli.json("ledger", "verify") == {"ok": True, "mismatches": []}

    set_balance_behind_the_ledgers_back(ops, "alice", parse_amount("1000"))
    assert cli.json("ledger", "verify", status=1) == {
        "ok": False,
        "mismatches": [{"username": "alice", "balance": "1000.00", "ledger_sum": "10.00"}],
    }
    done = cli("ledger", "verify")
    assert done.returncode == 1
    assert "alice" in done.stdout + done.stderr and "bob" not in done.stdout + done.stderr


# --- demo ------------------------------------------------------------------------------


def test_demo_loads_once(cli: Cli, ops: Panel) -> None:
    loaded = cli.json("demo")
    assert loaded["created"] is True and loaded["username"] == "demo"
    assert URL_SAFE_KEY.match(loaded["api_key"])
    demo = customer_of(ops, loaded["api_key"])
    assert demo is not None and demo.balance == parse_amount("100")
    services = cli.json("service", "list")["services"]
    assert sorted(s["service"] for s in services) == sorted(loaded["services"])
    assert len({s["type"] for s in services}) == 9

    assert cli.json("demo") == {"created": False}
    assert len(cli.json("service", "list")["services"]) == len(services)
    # the demo customer, and the demo operator who logs in to the dashboard
    assert [u["username"] for u in cli.json("user", "list")["users"]] == ["demo", "admin"]
    assert loaded["admin_username"] == "admin" and len(loaded["admin_password"]) >= 12


# --- bad input -------------------------------------------------------------------------


@pytest.fixture
def sqlite_cli(sqlite_template: SqliteTemplate, tmp_path: Path) -> Cli:
    """Argument mistakes never reach the database, so one back end is enough for them."""
    return Cli(sqlite_template.fresh(tmp_path), tmp_path)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["frobnicate"], "invalid choice"),
        ([], "required"),
        (["user", "fund", "alice", "1.234567"], "invalid amount '1.234567'"),
        (["user", "create", "carol", "--balance", "1e3", "--json"], "invalid amount '1e3'"),
        (["user", "fund", "alice", "١٢"], "invalid amount"),
        (["order", "list", "--status", "Bogus", "--json"], "invalid value 'Bogus'"),
        (["order", "list", "--limit", "0"], "positive whole number"),
        (["service", "create", "--name", "x"], "required"),
    ],
)
def test_bad_arguments_are_one_line_on_stderr(sqlite_cli: Cli, args: list[str], reason: str) -> None:
    assert reason in sqlite_cli.fails(*args)


def test_unknown_user_is_one_line_on_stderr(cli: Cli) -> None:
    assert "no user named 'ghost'" in cli.fails("ledger", "show", "ghost", "--json")
