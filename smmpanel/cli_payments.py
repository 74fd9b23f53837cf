"""CLI commands for payment gateways and payments: ``smmpanel gateway …`` and ``smmpanel payment …``.

``gateway add KIND`` takes the kind's own options as flags (``--secret-key`` for Stripe …), read
from the adapter's declared ``Option``s, so a new gateway kind needs no change here.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from smmpanel.cli_support import Output, Result, amount_arg, count_arg, enum_arg, positive_int, table
from smmpanel.clock import iso_utc
from smmpanel.db.payment_repositories import GatewayRecord, Payment, PaymentSearch
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.payments import PaymentStatus
from smmpanel.errors import NotFound
from smmpanel.gateways.base import Option
from smmpanel.gateways.registry import kinds
from smmpanel.money import format_amount
from smmpanel.usecases import payment_desk, payments
from smmpanel.usecases.audit import Audit
from smmpanel.usecases.gateways import (
    GatewayChanges,
    add_gateway,
    gateway_facts,
    gateway_named,
    list_gateways,
    update_gateway,
)

CLI = Audit("cli")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"


def _money(units: int | None) -> str | None:
    return None if units is None else format_amount(units)


def gateway_view(gateway: GatewayRecord) -> Output:
    return {"name": gateway.name, **gateway_facts(gateway), "webhook_path": payments.webhook_path(gateway.name)}


def payment_view(payment: Payment) -> Output:
    return {
        "id": payment.id,
        "user": payment.username,
        "gateway": payment.gateway,
        "amount": format_amount(payment.amount),
        "fee": format_amount(payment.fee),
        "amount_confirmed": _money(payment.amount_confirmed),
        "bonus": format_amount(payment.bonus),
        "currency": payment.currency,
        "status": payment.status.value,
        "reference": payment.reference,
        "note": payment.note,
        "created": iso_utc(payment.created_at),
        "confirmed": None if payment.confirmed_at is None else iso_utc(payment.confirmed_at),
    }


def _changes(args: argparse.Namespace) -> GatewayChanges:
    options = {o.name: getattr(args, o.name) for o in _all_options() if getattr(args, o.name, None) is not None}
    return GatewayChanges(
        display_name=args.display_name,
        enabled=args.enabled,
        min_amount=args.min,
        max_amount=args.max,
        clear_max=getattr(args, "no_max", False),
        fee_percent=args.fee_percent,
        bonus_percent=args.bonus_percent,
        bonus_from=args.bonus_from,
        instructions=args.instructions,
        position=args.position,
        options=options,
    )


def _all_options() -> list[Option]:
    """Every kind's options, each name once (kinds share ``api_base`` and the like)."""
    seen: dict[str, Option] = {}
    for cls in kinds().values():
        for option in cls.options:
            seen.setdefault(option.name, option)
    return list(seen.values())


async def gateway_add(db: Database, args: argparse.Namespace) -> Result:
    changes = _changes(args)
    gateway = await add_gateway(db, args.kind, args.name, options=dict(changes.options), changes=changes, audit=CLI)
    view = gateway_view(gateway)
    return Result(view, f"added {gateway.kind} gateway {gateway.name}; register its webhook at {view['webhook_path']}")


async def gateway_list(db: Database, args: argparse.Namespace) -> Result:
    rows = [gateway_view(gateway) for gateway in await list_gateways(db)]
    columns = ["name", "kind", "display_name", "enabled", "min", "max", "bonus_percent", "webhook_path"]
    return Result({"gateways": rows}, table(rows, columns))


async def gateway_update(db: Database, args: argparse.Namespace) -> Result:
    gateway = await update_gateway(db, args.name, _changes(args), audit=CLI)
    return Result(gateway_view(gateway), f"updated gateway {gateway.name}")


def _switch(enabled: bool) -> Callable[[Database, argparse.Namespace], Any]:
    async def handler(db: Database, args: argparse.Namespace) -> Result:
        gateway = await update_gateway(db, args.name, GatewayChanges(enabled=enabled), audit=CLI)
        return Result(gateway_view(gateway), f"gateway {gateway.name} {'enabled' if enabled else 'disabled'}")

    return handler


async def _user_id(db: Database, username: str) -> int:
    customer = await payment_desk.customer_named(db, username)
    if customer is None:
        raise NotFound(f"no customer {username!r}")
    return customer.id


async def payment_link(db: Database, args: argparse.Namespace) -> Result:
    settings = args.settings
    context = payments.PaymentContext(
        settings.public_url or DEFAULT_PUBLIC_URL, settings.currency, settings.http_timeout
    )
    user_id = await _user_id(db, args.user)
    checkout = await payments.start_payment(
        db, context, user_id=user_id, gateway_name=args.gateway, amount=args.amount, audit=CLI
    )
    data = {"payment": checkout.payment.id, "url": checkout.url, "reference": checkout.payment.reference}
    return Result({**data, **payment_view(checkout.payment)}, f"payment {checkout.payment.id}: {checkout.url}")


async def payment_list(db: Database, args: argparse.Namespace) -> Result:
    search = PaymentSearch(
        status=args.status,
        user_id=None if args.user is None else await _user_id(db, args.user),
        gateway_id=None if args.gateway is None else (await gateway_named(db, args.gateway)).id,
    )
    page = await payment_desk.payments_page(db, search, limit=args.limit)
    rows = [payment_view(payment) for payment in page.items]
    columns = ["id", "user", "gateway", "amount", "status", "reference", "created"]
    return Result({"payments": rows}, table(rows, columns))


async def payment_show(db: Database, args: argparse.Namespace) -> Result:
    detail = await payment_desk.payment_detail(db, args.payment_id)
    events = [
        {"at": iso_utc(event.created_at), "outcome": event.outcome, "reason": event.reason} for event in detail.events
    ]
    data = {**payment_view(detail.payment), "confirmation": detail.payment.confirmation, "events": events}
    lines = [f"{key}: {value}" for key, value in payment_view(detail.payment).items()]
    return Result(data, "\n".join([*lines, table(events, ["at", "outcome", "reason"])]))


async def payment_approve(db: Database, args: argparse.Namespace) -> Result:
    payment = await payment_desk.approve(db, args.payment_id, audit=CLI)
    return Result(payment_view(payment), f"payment {payment.id} approved: {format_amount(payment.amount)} credited")


async def payment_reject(db: Database, args: argparse.Namespace) -> Result:
    payment = await payment_desk.reject(db, args.payment_id, args.reason, audit=CLI)
    return Result(payment_view(payment), f"payment {payment.id} rejected")


async def payment_refund(db: Database, args: argparse.Namespace) -> Result:
    payment = await payment_desk.refund(db, args.payment_id, args.note, audit=CLI)
    return Result(payment_view(payment), f"payment {payment.id} refunded: {format_amount(payment.amount)} taken back")


def _gateway_settings(sub: argparse.ArgumentParser, *, creating: bool) -> None:
    sub.add_argument("--display-name", help="what customers see on /funds")
    sub.add_argument("--min", type=amount_arg, help="smallest amount a customer may pay")
    sub.add_argument("--max", type=amount_arg, help="largest amount a customer may pay")
    if not creating:
        sub.add_argument("--no-max", action="store_true", help="remove the maximum")
    sub.add_argument("--fee-percent", type=amount_arg, help="fee added on top of the amount, in percent")
    sub.add_argument("--bonus-percent", type=amount_arg, help="bonus credited on each deposit, in percent")
    sub.add_argument("--bonus-from", type=amount_arg, help="the smallest deposit that earns the bonus")
    sub.add_argument("--instructions", help="text shown to customers with this method")
    sub.add_argument("--position", type=count_arg, help="order on /funds")
    sub.add_argument("--enabled", action=argparse.BooleanOptionalAction, default=None)


def add_payment_commands(groups: Any, command: Callable[..., argparse.ArgumentParser], parser_class: type) -> None:
    """Add the ``gateway`` and ``payment`` groups."""
    gateway = groups.add_parser("gateway", help="payment gateways").add_subparsers(
        dest="cmd", required=True, parser_class=parser_class
    )
    add = gateway.add_parser("add", help="add a payment gateway").add_subparsers(
        dest="kind", required=True, parser_class=parser_class
    )
    for kind, cls in kinds().items():
        sub = command(add, kind, gateway_add, cls.title)
        sub.add_argument("--name", required=True, help="unique; part of the webhook's path")
        for option in cls.options:
            default = f" (default {option.default})" if option.default else ""
            sub.add_argument(option.flag, dest=option.name, required=option.default is None, help=option.help + default)
        _gateway_settings(sub, creating=True)
    command(gateway, "list", gateway_list, "gateways with their webhook paths")
    sub = command(gateway, "update", gateway_update, "change a gateway (options of its kind included)")
    sub.add_argument("name")
    for option in _all_options():
        sub.add_argument(option.flag, dest=option.name, help=option.help)
    _gateway_settings(sub, creating=False)
    for name, enabled in (("disable", False), ("enable", True)):
        command(gateway, name, _switch(enabled), f"{name} a gateway on /funds").add_argument("name")

    payment = groups.add_parser("payment", help="payments").add_subparsers(
        dest="cmd", required=True, parser_class=parser_class
    )
    sub = command(payment, "link", payment_link, "create a pending payment for a customer and print where to pay")
    sub.add_argument("user")
    sub.add_argument("amount", type=amount_arg)
    sub.add_argument("--gateway", required=True)
    sub = command(payment, "list", payment_list, "payments, newest first")
    sub.add_argument("--user")
    sub.add_argument("--status", type=enum_arg(PaymentStatus))
    sub.add_argument("--gateway")
    sub.add_argument("--limit", type=positive_int, default=100)
    command(payment, "show", payment_show, "a payment, its raw confirmation and events").add_argument(
        "payment_id", type=positive_int
    )
    command(payment, "approve", payment_approve, "credit a manual transfer under review").add_argument(
        "payment_id", type=positive_int
    )
    sub = command(payment, "reject", payment_reject, "turn down a pending payment")
    sub.add_argument("payment_id", type=positive_int)
    sub.add_argument("--reason", required=True, help="shown to the customer")
    sub = command(payment, "refund", payment_refund, "take a completed deposit (and its bonus) back")
    sub.add_argument("payment_id", type=positive_int)
    sub.add_argument("--note", required=True)
