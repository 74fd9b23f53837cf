"""``smmpanel staff``: add (a one-time password), list, role, disable and enable, as real processes."""

from __future__ import annotations

from pathlib import Path

from smmpanel.usecases import accounts, audit
from tests.support.cli import Cli
from tests.support.panel import Panel


def test_staff_commands_manage_members_and_their_roles(database_url: str, tmp_path: Path) -> None:
    cli, ops = Cli(database_url, tmp_path), Panel(database_url)
    ops.run(lambda db: accounts.create_customer(db, "boss", admin=True))
    ops.run(lambda db: accounts.create_customer(db, "alice"))
    added = cli.json("staff", "add", "sue", "--role", "support")
    assert (added["username"], added["role"]) == ("sue", "support") and len(added["password"]) >= 16
    sue = ops.run(lambda db: accounts.log_in(db, "sue", added["password"]))  # the printed password works
    assert sue.role == "support"
    assert "temporary password (shown once): " in cli.text("staff", "add", "fred", "--role", "finance")

    listed = cli.json("staff", "list")["staff"]
    assert [(m["username"], m["role"], m["two_factor"], m["disabled"]) for m in listed] == [
        ("boss", "owner", False, False),
        ("sue", "support", False, False),
        ("fred", "finance", False, False),
    ]  # alice, a customer, is not staff
    assert cli.json("staff", "role", "sue", "admin") == {"username": "sue", "role": "admin"}
    assert cli.json("staff", "disable", "sue") == {"username": "sue", "disabled": True}
    assert cli.json("staff", "enable", "sue") == {"username": "sue", "disabled": False}
    members = {m["username"]: m for m in cli.json("staff", "list")["staff"]}
    assert (members["sue"]["role"], members["sue"]["disabled"]) == ("admin", False)

    assert "only owner" in cli.fails("staff", "role", "boss", "support")
    assert "only owner" in cli.fails("staff", "disable", "boss")
    assert "no member of staff named 'alice'" in cli.fails("staff", "role", "alice", "admin")
    assert "invalid choice" in cli.fails("staff", "add", "mallory", "--role", "root")
    assert "already exists" in cli.fails("staff", "add", "sue", "--role", "support")
    entries = ops.run(lambda db: audit.audit_page(db, limit=50)).items
    assert [(e.actor, e.action, e.target) for e in reversed(entries)] == [
        ("cli", "staff.create", "user sue"),
        ("cli", "staff.create", "user fred"),
        ("cli", "staff.role", "user sue"),
        ("cli", "staff.disable", "user sue"),
        ("cli", "staff.enable", "user sue"),
    ]
    ops.close()
