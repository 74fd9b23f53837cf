"""``smmpanel staff``: members of staff and their roles, from the command line (the Staff page's twin)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from smmpanel.cli_support import Parser, Result, table
from smmpanel.clock import iso_utc
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.roles import STAFF_ROLES
from smmpanel.usecases import staff
from smmpanel.usecases.audit import Audit

CLI_AUDIT = Audit("cli")
ROLES = [str(role) for role in STAFF_ROLES]


async def staff_add(db: Database, args: argparse.Namespace) -> Result:
    password = await staff.add_staff(db, args.username, args.role, audit=CLI_AUDIT)
    data = {"username": args.username, "role": args.role, "password": password}
    return Result(data, f"added {args.username} ({args.role})\ntemporary password (shown once): {password}")


async def staff_list(db: Database, args: argparse.Namespace) -> Result:
    rows = [
        {
            "username": member.user.username,
            "role": member.user.role,
            "two_factor": member.two_factor,
            "disabled": member.user.disabled,
            "created_at": iso_utc(member.user.created_at),
        }
        for member in await staff.list_staff(db)
    ]
    return Result({"staff": rows}, table(rows, ["username", "role", "two_factor", "disabled", "created_at"]))


async def staff_role(db: Database, args: argparse.Namespace) -> Result:
    await staff.set_role(db, args.username, args.role, audit=CLI_AUDIT)
    return Result({"username": args.username, "role": args.role}, f"{args.username} is now {args.role}")


async def staff_disable(db: Database, args: argparse.Namespace) -> Result:
    await staff.set_disabled(db, args.username, True, audit=CLI_AUDIT)
    return Result({"username": args.username, "disabled": True}, f"{args.username} disabled")


async def staff_enable(db: Database, args: argparse.Namespace) -> Result:
    await staff.set_disabled(db, args.username, False, audit=CLI_AUDIT)
    return Result({"username": args.username, "disabled": False}, f"{args.username} enabled")


async def staff_reset_two_factor(db: Database, args: argparse.Namespace) -> Result:
    await staff.reset_two_factor(db, args.username, audit=CLI_AUDIT)
    return Result({"username": args.username, "two_factor": False}, f"{args.username}'s two-factor login removed")


def add_staff_commands(groups: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    group = groups.add_parser("staff", help="members of staff and their roles").add_subparsers(
        dest="cmd", required=True, parser_class=Parser
    )
    sub = command(group, "add", staff_add, "add a member of staff and print a one-time password")
    sub.add_argument("username")
    sub.add_argument("--role", choices=ROLES, required=True)
    command(group, "list", staff_list, "list the members of staff")
    sub = command(group, "role", staff_role, "change a member's role")
    sub.add_argument("username")
    sub.add_argument("role", choices=ROLES)
    command(group, "disable", staff_disable, "stop a member logging in").add_argument("username")
    command(group, "enable", staff_enable, "let a disabled member log in again").add_argument("username")
    command(group, "reset-2fa", staff_reset_two_factor, "remove a member's two-factor login").add_argument("username")
