"""CLI commands for coupons and the affiliate program."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import Any

from smmpanel.cli_support import Output, Parser, Result, amount_arg, positive_int, table
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.coupons import Coupon, CouponKind
from smmpanel.money import format_amount
from smmpanel.usecases import affiliates, coupons
from smmpanel.usecases.audit import Audit

CLI_AUDIT = Audit("cli")


def date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def coupon_json(coupon: Coupon) -> Output:
    return {
        "code": coupon.code,
        "kind": coupon.kind.value,
        "value": format_amount(coupon.value),
        "max_uses": coupon.max_uses,
        "uses": coupon.uses,
        "expires": None if coupon.expires_on is None else coupon.expires_on.isoformat(),
        "disabled": coupon.disabled,
    }


async def coupon_add(db: Database, args: argparse.Namespace) -> Result:
    kind, value = (CouponKind.AMOUNT, args.amount) if args.amount is not None else (CouponKind.PERCENT, args.percent)
    coupon = await coupons.create_coupon(
        db, args.code, kind, value, max_uses=args.max_uses, expires_on=args.expires, audit=CLI_AUDIT
    )
    worth = f"{format_amount(coupon.value)}{' %' if kind is CouponKind.PERCENT else ''}"
    return Result(coupon_json(coupon), f"added coupon {coupon.code} ({worth})")


async def coupon_list(db: Database, args: argparse.Namespace) -> Result:
    rows = [coupon_json(coupon) for coupon in await coupons.list_coupons(db)]
    columns = ["code", "kind", "value", "uses", "max_uses", "expires", "disabled"]
    return Result({"coupons": rows}, table(rows, columns))


async def coupon_disable(db: Database, args: argparse.Namespace) -> Result:
    await coupons.disable_coupon(db, args.code, audit=CLI_AUDIT)
    return Result({"disabled": args.code.strip().upper()}, f"disabled coupon {args.code.strip().upper()}")


async def affiliate_terms(db: Database, args: argparse.Namespace) -> Result:
    current = await affiliates.terms(db)
    if args.percent is not None or args.minimum is not None:
        percent = current.percent if args.percent is None else args.percent
        minimum = current.minimum if args.minimum is None else args.minimum
        await affiliates.set_terms(db, percent, minimum, audit=CLI_AUDIT)
        current = await affiliates.terms(db)
    data = {"percent": format_amount(current.percent), "minimum_payout": format_amount(current.minimum)}
    return Result(
        data, f"commission {data['percent']} % of each referral's deposit, payout from {data['minimum_payout']}"
    )


async def affiliate_percent(db: Database, args: argparse.Namespace) -> Result:
    await affiliates.set_referrer_percent(db, args.username, args.percent, audit=CLI_AUDIT)
    shown = "the panel's" if args.percent is None else f"{format_amount(args.percent)} %"
    data = {"username": args.username, "percent": None if args.percent is None else format_amount(args.percent)}
    return Result(data, f"{args.username} earns {shown} on referrals' deposits")


def add_coupon_commands(groups: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    coupon = groups.add_parser("coupon", help="coupon codes").add_subparsers(
        dest="cmd", required=True, parser_class=Parser
    )
    sub = command(coupon, "add", coupon_add, "make a coupon code (any case: codes ignore case)")
    sub.add_argument("code")
    worth = sub.add_mutually_exclusive_group(required=True)
    worth.add_argument("--amount", type=amount_arg, help="credited when redeemed")
    worth.add_argument("--percent", type=amount_arg, help="of the customer's next completed deposit")
    sub.add_argument("--max-uses", type=positive_int, help="uses in all (each customer once); default unlimited")
    sub.add_argument("--expires", type=date_arg, help="last day it can be redeemed (UTC), YYYY-MM-DD")
    command(coupon, "list", coupon_list, "coupons, newest first")
    command(coupon, "disable", coupon_disable, "stop a coupon from being redeemed").add_argument("code")

    affiliate = groups.add_parser("affiliate", help="the affiliate program").add_subparsers(
        dest="cmd", required=True, parser_class=Parser
    )
    sub = command(affiliate, "terms", affiliate_terms, "show or set the commission percent and the minimum payout")
    sub.add_argument("--percent", type=amount_arg, help="of each completed deposit of a referral")
    sub.add_argument("--minimum", type=amount_arg, help="the smallest payout to the balance")
    sub = command(affiliate, "percent", affiliate_percent, "one referrer's own percent (none given: the panel's)")
    sub.add_argument("username")
    sub.add_argument("percent", type=amount_arg, nargs="?")
