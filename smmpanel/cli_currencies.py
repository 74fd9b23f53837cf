"""``smmpanel currency``: the display currencies, from the command line (the Currencies page's twin)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from smmpanel.cli_support import Output, Result, count_arg, table
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.currencies import DisplayCurrency
from smmpanel.usecases import currencies
from smmpanel.usecases.audit import Audit

CLI_AUDIT = Audit("cli")
COLUMNS = ["code", "symbol", "decimals", "rate", "default"]


def _row(currency: DisplayCurrency) -> Output:
    return {
        "code": currency.code,
        "symbol": currency.symbol,
        "decimals": currency.decimals,
        "rate": currency.rate_text,
        "default": currency.is_default,
    }


async def currency_add(db: Database, args: argparse.Namespace) -> Result:
    added = await currencies.add_currency(
        db,
        args.code,
        symbol=args.symbol,
        decimals=args.decimals,
        rate=args.rate,
        panel_code=args.settings.currency,
        audit=CLI_AUDIT,
    )
    return Result(_row(added), f"added {added.code}: 1 {args.settings.currency} = {added.rate_text} {added.code}")


async def currency_list(db: Database, args: argparse.Namespace) -> Result:
    rows = [_row(currency) for currency in await currencies.list_currencies(db)]
    default = next((row["code"] for row in rows if row["default"]), args.settings.currency)
    text = f"panel currency {args.settings.currency}; shown by default in {default}\n{table(rows, COLUMNS)}"
    return Result({"panel_currency": args.settings.currency, "default": default, "currencies": rows}, text)


async def currency_update(db: Database, args: argparse.Namespace) -> Result:
    changed = await currencies.update_currency(
        db, args.code, symbol=args.symbol, decimals=args.decimals, rate=args.rate, audit=CLI_AUDIT
    )
    return Result(_row(changed), f"{changed.code}: 1 {args.settings.currency} = {changed.rate_text} {changed.code}")


async def currency_remove(db: Database, args: argparse.Namespace) -> Result:
    await currencies.remove_currency(db, args.code, audit=CLI_AUDIT)
    code = args.code.strip().upper()
    return Result({"code": code, "removed": True}, f"removed {code}")


async def currency_default(db: Database, args: argparse.Namespace) -> Result:
    await currencies.set_default(db, args.code, panel_code=args.settings.currency, audit=CLI_AUDIT)
    code = args.code.strip().upper()
    return Result({"default": code}, f"prices are shown in {code} unless a customer picks another")


def add_currency_commands(groups: Any, command: Callable[..., argparse.ArgumentParser], parser_class: type) -> None:
    group = groups.add_parser("currency", help="display currencies (prices shown converted; money stays exact)")
    currency = group.add_subparsers(dest="cmd", required=True, parser_class=parser_class)
    sub = command(currency, "add", currency_add, "offer a display currency")
    sub.add_argument("code", help="ISO 4217 code, e.g. EUR")
    sub.add_argument("--rate", required=True, help="units of it one unit of the panel's currency buys, e.g. 0.92")
    sub.add_argument("--symbol", default="", help="e.g. €")
    sub.add_argument("--decimals", type=count_arg, default=2, help="decimals shown (0 for JPY)")
    command(currency, "list", currency_list, "list the display currencies")
    sub = command(currency, "update", currency_update, "change a display currency")
    sub.add_argument("code")
    sub.add_argument("--rate")
    sub.add_argument("--symbol")
    sub.add_argument("--decimals", type=count_arg)
    command(currency, "remove", currency_remove, "stop offering a display currency").add_argument("code")
    sub = command(currency, "default", currency_default, "the currency prices are shown in by default")
    sub.add_argument("code", help="a display currency, or the panel's own")
