"""``smmpanel``: the operator's command line, for people and for scripts.

Every command takes ``--json`` and then prints exactly one JSON object on stdout.
Errors are one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
import uvloop
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from smmpanel.cli_adminapi import add_admin_api_commands
from smmpanel.cli_archive import add_archive_commands
from smmpanel.cli_coupons import add_coupon_commands
from smmpanel.cli_currencies import add_currency_commands
from smmpanel.cli_engine import add_engine_commands, add_engine_order_commands
from smmpanel.cli_operations import add_operations_commands
from smmpanel.cli_payments import add_payment_commands
from smmpanel.cli_settings import add_settings_commands
from smmpanel.cli_simulators import add_simulator_commands, simulate_gateways
from smmpanel.cli_staff import add_staff_commands
from smmpanel.cli_support import CliError, Output, Parser, Result, amount_arg, count_arg, enum_arg, positive_int, table
from smmpanel.clock import iso_utc
from smmpanel.config import Settings
from smmpanel.db.engine import DatabaseUrlError
from smmpanel.db.migrate import upgrade
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.domain.orders import Order, OrderStatus
from smmpanel.domain.refills import RefillStatus
from smmpanel.errors import SmmPanelError
from smmpanel.money import format_amount
from smmpanel.usecases import accounts, catalog, demo, orders, refills
from smmpanel.usecases.audit import Audit

CLI_AUDIT = Audit("cli")
"""The command line's changes of money and prices are audited too; the actor is the CLI itself."""


def _service_json(service: Service) -> Output:
    return {
        "service": service.id,
        "name": service.name,
        "category": service.category,
        "type": service.type.value,
        "rate": format_amount(service.rate),
        "min": service.min,
        "max": service.max,
        "refill": service.refill,
        "cancel": service.cancel,
        "description": service.description,
        "enabled": service.enabled,
        "refill_days": service.refill_days,
        "deny_duplicate_link": service.deny_duplicate_link,
    }


def _order_json(order: Order, username: str) -> Output:
    return {
        "id": order.id,
        "user": username,
        "service": order.service_id,
        "link": order.link,
        "quantity": order.quantity,
        "runs": order.runs,
        "interval": order.interval,
        "charge": format_amount(order.charge),
        "refunded": format_amount(order.refunded),
        "status": order.status.value,
        "start_count": order.start_count,
        "remains": order.remains,
        "cancel_requested": order.cancel_requested,
        "provider": order.provider_id,
        "provider_order": order.provider_order_id,
        "upstream_charge": None if order.upstream_charge is None else format_amount(order.upstream_charge),
        "dispatch": order.dispatch,
        "details": order.details,
        "created_at": iso_utc(order.created_at),
    }


# --- commands -------------------------------------------------------------------------


def _stdin_password() -> str:
    """A password is read from standard input, never from the command line (where `ps` shows it)."""
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CliError("no password on standard input")
    return line


async def user_create(db: Database, args: argparse.Namespace) -> Result:
    password = _stdin_password() if args.password_stdin else None
    created = await accounts.create_customer(
        db,
        args.username,
        args.balance,
        password=password,
        admin=args.admin,
        email=args.email,
        site=args.site or Settings().public_url or "",
    )
    data = {"username": created.username, "api_key": created.api_key, "balance": format_amount(created.balance)}
    return Result(data, f"created user {created.username}\nAPI key (shown once): {created.api_key}")


async def user_password(db: Database, args: argparse.Namespace) -> Result:
    await accounts.set_password(db, args.username, _stdin_password())
    return Result({"username": args.username, "password_set": True}, f"password set for {args.username}")


async def user_list(db: Database, args: argparse.Namespace) -> Result:
    users = [
        {
            "username": user.username,
            "balance": format_amount(user.balance),
            "disabled": user.disabled,
            "created_at": iso_utc(user.created_at),
        }
        for user in await accounts.list_customers(db)
    ]
    return Result({"users": users}, table(users, ["username", "balance", "disabled", "created_at"]))


async def user_fund(db: Database, args: argparse.Namespace) -> Result:
    balance = await accounts.fund(db, args.username, args.amount, args.note, audit=CLI_AUDIT)
    data = {"username": args.username, "amount": format_amount(args.amount), "balance": format_amount(balance)}
    return Result(data, f"{args.username}: balance {format_amount(balance)}")


async def user_key(db: Database, args: argparse.Namespace) -> Result:
    if not args.rotate:
        raise CliError("keys are stored hashed and cannot be shown again: use --rotate for a new one")
    rotated = await accounts.rotate_key(db, args.username)
    data = {"username": rotated.username, "api_key": rotated.api_key}
    return Result(data, f"new API key for {rotated.username} (shown once): {rotated.api_key}")


async def user_disable(db: Database, args: argparse.Namespace) -> Result:
    await accounts.set_disabled(db, args.username, True)
    return Result({"username": args.username, "disabled": True}, f"{args.username} disabled")


async def user_enable(db: Database, args: argparse.Namespace) -> Result:
    await accounts.set_disabled(db, args.username, False)
    return Result({"username": args.username, "disabled": False}, f"{args.username} enabled")


def _changes(args: argparse.Namespace) -> catalog.ServiceChanges:
    return catalog.ServiceChanges(
        name=args.name,
        category=args.category,
        type=args.type,
        rate=args.rate,
        min=args.min,
        max=args.max,
        refill=args.refill,
        cancel=args.cancel,
        description=args.description,
        enabled=getattr(args, "enabled", None),
        refill_days=args.refill_days,
        deny_duplicate_link=args.deny_duplicate_link,
        position=args.position,
    )


async def service_create(db: Database, args: argparse.Namespace) -> Result:
    service_id = await catalog.create_service(db, _changes(args))
    return Result({"service": service_id}, f"created service {service_id}")


async def service_list(db: Database, args: argparse.Namespace) -> Result:
    services = [_service_json(s) for s in await catalog.list_services(db, enabled_only=False)]
    columns = ["service", "name", "category", "type", "rate", "min", "max", "refill", "cancel", "enabled"]
    return Result({"services": services}, table(services, columns))


async def service_update(db: Database, args: argparse.Namespace) -> Result:
    service = await catalog.update_service(db, args.service_id, _changes(args), audit=CLI_AUDIT)
    return Result(_service_json(service), f"updated service {service.id}")


async def service_disable(db: Database, args: argparse.Namespace) -> Result:
    service = await catalog.update_service(db, args.service_id, catalog.ServiceChanges(enabled=False))
    return Result(_service_json(service), f"disabled service {service.id}")


async def order_list(db: Database, args: argparse.Namespace) -> Result:
    listing = await orders.list_orders(db, username=args.user, status=args.status, limit=args.limit)
    rows = [_order_json(order, username) for order, username in listing]
    columns = ["id", "user", "service", "link", "quantity", "charge", "status", "start_count", "remains"]
    return Result({"orders": rows}, table(rows, columns))


async def order_update(db: Database, args: argparse.Namespace) -> Result:
    change = orders.OrderUpdate(status=args.status, start_count=args.start_count, remains=args.remains)
    if change == orders.OrderUpdate():
        raise CliError("nothing to change: give --status, --start-count or --remains")
    order = await orders.update_order(db, args.order_id, change)
    data = _order_json(order, "")
    del data["user"]
    return Result(data, f"order {order.id}: {order.status.value}, remains {order.remains}")


async def order_post(db: Database, args: argparse.Namespace) -> Result:
    order = await orders.record_subscription_post(db, args.order_id, args.quantity)
    data = _order_json(order, "")
    del data["user"]
    return Result(data, f"order {order.id}: charged {format_amount(order.charge)} so far")


async def refill_list(db: Database, args: argparse.Namespace) -> Result:
    rows = [
        {
            "id": refill.id,
            "order": refill.order_id,
            "user": username,
            "status": refill.status.value,
            "created_at": iso_utc(refill.created_at),
        }
        for refill, username in await refills.list_refills(db, status=args.status, limit=args.limit)
    ]
    return Result({"refills": rows}, table(rows, ["id", "order", "user", "status", "created_at"]))


async def refill_update(db: Database, args: argparse.Namespace) -> Result:
    refill = await refills.update_refill(db, args.refill_id, args.status, reason=args.reason)
    data: dict[str, object] = {"id": refill.id, "order": refill.order_id, "status": refill.status.value}
    if refill.reason:
        data["reason"] = refill.reason
    return Result(data, f"refill {refill.id}: {refill.status.value}")


async def ledger_verify(db: Database, args: argparse.Namespace) -> Result:
    mismatches = await accounts.verify_ledger(db)
    rows = [
        {"username": m.username, "balance": format_amount(m.balance), "ledger_sum": format_amount(m.ledger_sum)}
        for m in mismatches
    ]
    if rows:
        names = ", ".join(row["username"] for row in rows)
        return Result({"ok": False, "mismatches": rows}, f"ledger mismatch for: {names}")
    return Result({"ok": True, "mismatches": []}, "ledger verified: every balance equals the sum of its entries")


async def ledger_show(db: Database, args: argparse.Namespace) -> Result:
    customer, entries = await accounts.ledger_of(db, args.username, args.limit)
    rows = [
        {
            "id": e.id,
            "kind": e.kind,
            "amount": format_amount(e.amount),
            "balance_after": format_amount(e.balance_after),
            "order": e.order_id,
            "note": e.note,
            "created_at": iso_utc(e.created_at),
        }
        for e in entries
    ]
    data = {"username": customer.username, "balance": format_amount(customer.balance), "entries": rows}
    text = f"{customer.username}: balance {format_amount(customer.balance)}\n" + table(
        rows, ["id", "kind", "amount", "balance_after", "order", "note", "created_at"]
    )
    return Result(data, text)


async def demo_load(db: Database, args: argparse.Namespace) -> Result:
    loaded = await demo.load_demo(db)
    if loaded is None:
        return Result({"created": False}, "the panel already has customers: demo data not loaded")
    key = loaded.customer.api_key
    data = {
        "created": True,
        "username": loaded.customer.username,
        "api_key": key,
        "password": loaded.password,
        "admin_username": loaded.admin_username,
        "admin_password": loaded.admin_password,
        "services": loaded.service_ids,
    }
    text = (
        f"demo customer {loaded.customer.username}, API key (shown once): {key}, password: {loaded.password}\n"
        f"demo operator {loaded.admin_username}, password: {loaded.admin_password}"
    )
    return Result(data, text)


# --- parser ---------------------------------------------------------------------------


def _service_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    parser.add_argument("--name", required=creating)
    parser.add_argument("--category", required=creating)
    parser.add_argument("--type", type=enum_arg(ServiceType), required=creating, help="e.g. Default, Package")
    parser.add_argument("--rate", type=amount_arg, required=creating, help="price per 1000")
    parser.add_argument("--min", type=positive_int, required=creating)
    parser.add_argument("--max", type=positive_int, required=creating)
    parser.add_argument("--refill", action=argparse.BooleanOptionalAction, default=False if creating else None)
    parser.add_argument("--cancel", action=argparse.BooleanOptionalAction, default=False if creating else None)
    parser.add_argument("--description")
    parser.add_argument("--refill-days", type=count_arg)
    parser.add_argument(
        "--deny-duplicate-link",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="refuse a new order while the customer has an active one for the same link",
    )
    parser.add_argument("--position", type=count_arg, help="sort position in the catalog")


def build_parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    # SUPPRESS: a subcommand's unset default must not undo a --json given before the command.
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print exactly one JSON object")
    parser = Parser(prog="smmpanel", description="An SMM reseller panel server.", parents=[common])
    groups = parser.add_subparsers(dest="group", required=True, parser_class=Parser)

    def command(group: Any, name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, parents=[common], help=help_text)
        sub.set_defaults(handler=handler)
        return sub

    serve = command(groups, "serve", None, "run the panel")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=count_arg, default=8000)
    serve.add_argument("--demo", action="store_true", help="demo data (if the panel is empty) and a simulated provider")
    serve.add_argument("--no-engine", action="store_true", help="leave the order engine to `smmpanel worker`")
    serve.add_argument("--workers", type=positive_int, default=1, help="API processes (PostgreSQL only)")
    simulate = command(groups, "simulate-provider", None, "serve a simulated upstream provider")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=count_arg, default=8100)
    simulate.add_argument("--speed", type=float, default=2.0, help="seconds per step (Pending → In progress → done)")
    simulate.add_argument("--partial-rate", type=float, default=0.0)
    simulate.add_argument("--refuse-rate", type=float, default=0.0)
    simulate.add_argument("--error-rate", type=float, default=0.0)
    simulate.add_argument("--latency", type=float, default=0.0)
    simulate.add_argument("--style", default="perfectpanel")
    simulate.add_argument("--key", default="simulator-key")
    simulate.add_argument("--balance", default="100000.00")
    simulate.add_argument("--seed", type=int)
    simulate.add_argument("--state", help="keep the next order ids in this file, so a restart never repeats one")
    db = groups.add_parser("db", help="the database").add_subparsers(dest="cmd", required=True, parser_class=Parser)
    command(db, "upgrade", None, "apply migrations")
    command(groups, "demo", demo_load, "load demo data into an empty panel")

    user = groups.add_parser("user", help="customers").add_subparsers(dest="cmd", required=True, parser_class=Parser)
    sub = command(user, "create", user_create, "create a customer and print its API key")
    sub.add_argument("username")
    sub.add_argument("--balance", type=amount_arg, default=0)
    sub.add_argument("--admin", action="store_true", help="an operator, who may use the admin dashboard")
    sub.add_argument("--password-stdin", action="store_true", help="read a dashboard password from stdin")
    sub.add_argument("--email", help="the customer's email address, mailed a verification link")
    sub.add_argument("--site", help="the panel's address for the link (default: SMMPANEL_PUBLIC_URL)")
    command(user, "password", user_password, "set a dashboard password, read from stdin").add_argument("username")
    command(user, "list", user_list, "list customers")
    sub = command(user, "fund", user_fund, "add funds, or a negative correction")
    sub.add_argument("username")
    sub.add_argument("amount", type=amount_arg)
    sub.add_argument("--note", default="")
    sub = command(user, "key", user_key, "issue a new API key")
    sub.add_argument("username")
    sub.add_argument("--rotate", action="store_true")
    for name, handler in (("disable", user_disable), ("enable", user_enable)):
        command(user, name, handler, f"{name} a customer").add_argument("username")

    service = groups.add_parser("service", help="the catalog").add_subparsers(
        dest="cmd", required=True, parser_class=Parser
    )
    _service_options(command(service, "create", service_create, "add a service"), creating=True)
    command(service, "list", service_list, "list all services")
    sub = command(service, "update", service_update, "change a service")
    sub.add_argument("service_id", type=positive_int)
    _service_options(sub, creating=False)
    sub.add_argument("--enabled", action=argparse.BooleanOptionalAction, default=None)
    command(service, "disable", service_disable, "stop selling a service").add_argument("service_id", type=positive_int)

    order = groups.add_parser("order", aliases=["orders"], help="orders").add_subparsers(
        dest="cmd", required=True, parser_class=Parser
    )
    sub = command(order, "list", order_list, "list orders, newest first")
    sub.add_argument("--user")
    sub.add_argument("--status", type=enum_arg(OrderStatus))
    sub.add_argument("--limit", type=positive_int, default=100)
    sub = command(order, "update", order_update, "fulfil an order by hand")
    sub.add_argument("order_id", type=positive_int)
    sub.add_argument("--status", type=enum_arg(OrderStatus))
    sub.add_argument("--start-count", type=count_arg)
    sub.add_argument("--remains", type=count_arg)
    sub = command(order, "post", order_post, "charge one delivered post of a Subscriptions order")
    sub.add_argument("order_id", type=positive_int)
    sub.add_argument("quantity", type=positive_int)
    add_engine_order_commands(order, service, command)
    add_archive_commands(order, command)
    add_engine_commands(groups, command, Parser)
    add_operations_commands(groups, command)
    add_admin_api_commands(groups, command, Parser)
    add_staff_commands(groups, command)
    add_payment_commands(groups, command, Parser)
    add_simulator_commands(groups, command)
    add_coupon_commands(groups, command)
    add_settings_commands(groups, command)
    add_currency_commands(groups, command, Parser)

    refill = groups.add_parser("refill", help="refills").add_subparsers(dest="cmd", required=True, parser_class=Parser)
    sub = command(refill, "list", refill_list, "list refill requests, newest first")
    sub.add_argument("--status", type=enum_arg(RefillStatus))
    sub.add_argument("--limit", type=positive_int, default=100)
    sub = command(refill, "update", refill_update, "settle a refill request")
    sub.add_argument("refill_id", type=positive_int)
    sub.add_argument("--status", type=enum_arg(RefillStatus), required=True)
    sub.add_argument("--reason", default="", help="why a rejection, in words the customer reads")

    ledger = groups.add_parser("ledger", help="the money ledger").add_subparsers(
        dest="cmd", required=True, parser_class=Parser
    )
    command(ledger, "verify", ledger_verify, "check that every balance equals the sum of its entries")
    sub = command(ledger, "show", ledger_show, "a customer's entries, newest first")
    sub.add_argument("username")
    sub.add_argument("--limit", type=positive_int, default=50)
    return parser


def _print(result: Result, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(result.data).decode() + "\n")
    else:
        print(result.text)


async def _run_handler(settings: Settings, handler: Callable[..., Awaitable[Result]], args: Any) -> Result:
    # A one-off command needs a connection or two; the long-running worker sends many orders at once.
    pool_size = settings.db_pool_size if getattr(args, "long_running", False) else 2
    db = Database(settings.database_url, pool_size=pool_size)
    try:
        return await handler(db, args)
    finally:
        await db.close()


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    from smmpanel.server import serve

    if args.no_engine:
        settings = settings.model_copy(update={"run_engine": False})
    serve(settings, host=args.host, port=args.port, demo_data=args.demo, workers=args.workers)


def _simulate(args: argparse.Namespace) -> None:
    from smmpanel.providers.simulator import SimulatorSettings, run_simulator

    try:
        simulated = SimulatorSettings(
            api_key=args.key,
            style=args.style,
            seconds_per_step=args.speed,
            partial_rate=args.partial_rate,
            refuse_rate=args.refuse_rate,
            error_rate=args.error_rate,
            latency=args.latency,
            balance=args.balance,
            seed=args.seed,
            state_file=args.state,
        )
    except ValueError as error:
        raise CliError(str(error)) from None
    run_simulator(simulated, args.host, args.port)


def run(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        settings = Settings()
        args.settings = settings
        if args.group == "serve":
            _serve(settings, args)
            return 0
        if args.group == "simulate-provider":
            _simulate(args)
            return 0
        if args.group == "simulate-gateways":
            simulate_gateways(args)
            return 0
        if args.group == "db":
            upgrade(settings.database_url)
            _print(Result({"upgraded": True}, "database is up to date"), getattr(args, "json", False))
            return 0
        # The worker runs on uvloop, as ``serve`` does (uvicorn picks it): a fraction of the CPU
        # per socket event of asyncio's own loop, and the worker's every send is a few of them.
        run_loop = uvloop.run if getattr(args, "long_running", False) else asyncio.run
        result = run_loop(_run_handler(settings, args.handler, args))
        _print(result, getattr(args, "json", False))
        return 1 if result.data.get("ok") is False else 0
    except (CliError, SmmPanelError, DatabaseUrlError) as error:
        return _fail(str(error))
    except ValidationError as error:
        first = error.errors()[0]
        return _fail(f"invalid setting SMMPANEL_{str(first['loc'][0]).upper()}: {first['msg']}")
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return _fail(f"database error: {reason} (is it reachable, and did `smmpanel db upgrade` run?)")
    except KeyboardInterrupt:
        return 130


def _fail(message: str) -> int:
    sys.stderr.write(f"smmpanel: error: {message}\n")
    return 1


def main() -> None:
    sys.exit(run())
