"""``smmpanel admin-api key …``: the owner's keys for the admin API (``/adminapi/v2`` and ``v1``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from smmpanel.cli_support import Result, table
from smmpanel.clock import iso_utc
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases import admin_keys
from smmpanel.usecases.audit import Audit

CLI = Audit("cli")


async def key_create(db: Database, args: argparse.Namespace) -> Result:
    created = await admin_keys.create_key(db, args.name, args.role, audit=CLI)
    text = f"admin API key {created.name} ({created.role}): {created.api_key}\n(shown once: keep it now)"
    return Result({"name": created.name, "api_key": created.api_key}, text)


async def key_list(db: Database, args: argparse.Namespace) -> Result:
    rows = [
        {
            "name": key.name,
            "role": key.role,
            "created_at": iso_utc(key.created_at),
            "revoked_at": None if key.revoked_at is None else iso_utc(key.revoked_at),
        }
        for key in await admin_keys.list_keys(db)
    ]
    return Result({"keys": rows}, table(rows, ["name", "role", "created_at", "revoked_at"]))


async def key_revoke(db: Database, args: argparse.Namespace) -> Result:
    key = await admin_keys.revoke_key(db, args.name, audit=CLI)
    assert key.revoked_at is not None
    return Result({"name": key.name, "revoked_at": iso_utc(key.revoked_at)}, f"revoked admin API key {key.name}")


def add_admin_api_commands(groups: Any, command: Callable[..., argparse.ArgumentParser], parser_class: type) -> None:
    group = groups.add_parser("admin-api", help="keys of the admin API").add_subparsers(
        dest="cmd", required=True, parser_class=parser_class
    )
    keys = group.add_parser("key", help="admin API keys").add_subparsers(
        dest="key_cmd", required=True, parser_class=parser_class
    )
    sub = command(keys, "create", key_create, "a new key, printed once")
    sub.add_argument("--name", required=True)
    sub.add_argument("--role", default=admin_keys.DEFAULT_ROLE, choices=admin_keys.ROLES)
    command(keys, "list", key_list, "every key, revoked ones too (never their text)")
    command(keys, "revoke", key_revoke, "the key stops working at once").add_argument("--name", required=True)
