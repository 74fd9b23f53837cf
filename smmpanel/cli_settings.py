"""CLI commands for the panel's branding and public rules: ``settings show`` and ``settings set``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from smmpanel.cli_support import Parser, Result
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases import branding
from smmpanel.usecases.audit import Audit

CLI_AUDIT = Audit("cli")


async def settings_show(db: Database, args: argparse.Namespace) -> Result:
    values = branding.stored_values(await branding.current(db))
    lines = [
        f"{name}: {value}" if "\n" not in value else f"{name}: ({len(value)} characters)"
        for name, value in values.items()
    ]
    return Result(values, "\n".join(lines))


async def settings_set(db: Database, args: argparse.Namespace) -> Result:
    """Checked like the dashboard's form; a change shows on every panel process within seconds."""
    await branding.update(db, {args.name: args.value}, audit=CLI_AUDIT)
    value = branding.stored_values(await branding.current(db))[args.name]
    return Result({args.name: value}, f"{args.name} is now {value!r}")


def add_settings_commands(groups: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    group = groups.add_parser("settings", help="the panel's name, colours, signup mode, time zone").add_subparsers(
        dest="cmd", required=True, parser_class=Parser
    )
    command(group, "show", settings_show, "show the branding settings")
    sub = command(group, "set", settings_set, f"change one setting ({', '.join(branding.FIELDS)})")
    sub.add_argument("name", choices=list(branding.FIELDS))
    sub.add_argument("value")
