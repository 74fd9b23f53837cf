"""CLI commands for upstream providers, the order engine and the attention list."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable
from typing import Any

from smmpanel.cli_catalog import add_catalog_provider_commands, add_catalog_service_commands, import_preview
from smmpanel.cli_support import Result, amount_arg, enum_arg, positive_int, table
from smmpanel.clock import iso_utc
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.upstream_cost import Rounding
from smmpanel.engine.worker import Engine
from smmpanel.logging_setup import configure_logging
from smmpanel.money import format_amount
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import fulfilment, orders, outages, providers


async def provider_add(db: Database, args: argparse.Namespace) -> Result:
    provider_id = await providers.add_provider(db, args.name, args.url, args.key)
    return Result({"provider": provider_id, "name": args.name}, f"added provider {args.name}")


async def provider_list(db: Database, args: argparse.Namespace) -> Result:
    pool = ClientPool(args.settings)
    try:
        views = await providers.list_providers(db, pool)
    finally:
        await pool.aclose()
    rows = [
        {
            "name": view.provider.name,
            "url": view.provider.url,
            "key": view.provider.masked_key,
            "balance": None if view.balance is None else format_amount(view.balance),
            "currency": view.currency,
            "health": "ok" if view.error is None else view.error,
            "last_error": view.provider.last_error,
            "down_since": iso_utc(view.provider.down_since) if view.provider.down_since else None,
            "outage_limit": view.provider.outage_limit,
        }
        for view in views
    ]
    return Result({"providers": rows}, table(rows, ["name", "url", "key", "balance", "currency", "health"]))


async def provider_remove(db: Database, args: argparse.Namespace) -> Result:
    await providers.remove_provider(db, args.name)
    return Result({"removed": args.name}, f"removed provider {args.name}")


async def provider_import(db: Database, args: argparse.Namespace) -> Result:
    if args.preview:
        return await import_preview(db, args)
    only = {int(part) for part in args.services.split(",") if part.strip()} if args.services else None
    pool = ClientPool(args.settings)
    try:
        report = await providers.import_catalog(
            db,
            pool,
            args.name,
            markup=args.markup,
            fixed=args.fixed,
            category=args.category,
            only=only,
            rounding=args.rounding,
        )
    finally:
        await pool.aclose()
    data = {"created": report.created, "updated": report.updated, "disabled": report.disabled}
    if report.demo_hidden:
        data["demo_hidden"] = report.demo_hidden
    text = f"created {len(report.created)}, updated {len(report.updated)}, disabled {len(report.disabled)} services"
    if report.demo_hidden:
        text += f" {report.demo_notice}"
    return Result(data, text)


async def service_link(db: Database, args: argparse.Namespace) -> Result:
    await providers.link_service(db, args.service_id, args.provider, args.provider_service, args.priority)
    data = {"service": args.service_id, "provider": args.provider, "provider_service": args.provider_service}
    return Result(data, f"service {args.service_id} → {args.provider} service {args.provider_service}")


async def order_attention(db: Database, args: argparse.Namespace) -> Result:
    rows = [
        {
            "id": order.id,
            "reason": order.attention_reason,
            "provider_id": order.provider_id,
            "provider_order": order.provider_order_id,
            "link": order.link,
            "charge": format_amount(order.charge),
            "created_at": iso_utc(order.created_at),
        }
        for order in await fulfilment.attention_list(db, args.limit)
    ]
    down = [
        {
            "provider": outage.provider.name,
            "down_since": iso_utc(outage.since) if outage.since else None,
            "waiting": outage.waiting,
            "error": outage.provider.last_error,
        }
        for outage in await outages.outages(db)
    ]
    lines = [f"{row['provider']}: provider unreachable: {row['waiting']} orders waiting" for row in down]
    text = "\n".join([*lines, table(rows, ["id", "provider_id", "provider_order", "reason"])])
    return Result({"orders": rows, "outages": down}, text)


def _attention_action(action: Callable[..., Any], verb: str) -> Callable[[Database, argparse.Namespace], Any]:
    async def handler(db: Database, args: argparse.Namespace) -> Result:
        extra = [args.provider_order_id] if hasattr(args, "provider_order_id") else []
        await action(db, args.order_id, *extra)
        return Result({"order": args.order_id, "done": verb}, f"order {args.order_id}: {verb}")

    return handler


async def order_stop(db: Database, args: argparse.Namespace) -> Result:
    order = await orders.stop_drip_feed(db, args.order_id)
    data = {"order": order.id, "status": order.status.value, "refunded": format_amount(order.refunded)}
    return Result(data, f"order {order.id} stopped; refunded so far {format_amount(order.refunded)}")


async def worker(db: Database, args: argparse.Namespace) -> Result:
    engine = Engine(db, args.settings)
    try:
        if args.once:
            handled = await engine.run_pass()
            return Result({"handled": handled}, f"handled {handled} items")
        configure_logging(args.settings.log_format, args.settings.log_level)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await engine.run_until(stop)
        return Result({"stopped": True}, "worker stopped")
    finally:
        await engine.aclose()


async def provider_cancel_waiting(db: Database, args: argparse.Namespace) -> Result:
    canceled = await outages.cancel_waiting(db, args.name)
    return Result({"provider": args.name, "canceled": canceled}, f"{canceled} waiting orders canceled and refunded")


def add_engine_commands(groups: Any, command: Callable[..., argparse.ArgumentParser], parser_class: type) -> None:
    """Add ``provider``, ``worker`` and the engine's ``order`` and ``service`` subcommands."""
    provider = groups.add_parser("provider", help="upstream providers").add_subparsers(
        dest="cmd", required=True, parser_class=parser_class
    )
    sub = command(provider, "add", provider_add, "register a provider (its full API v2 URL and key)")
    sub.add_argument("name")
    sub.add_argument("--url", required=True)
    sub.add_argument("--key", required=True)
    command(provider, "list", provider_list, "providers with their live balance and health")
    command(provider, "remove", provider_remove, "forget a provider").add_argument("name")
    sub = command(provider, "import", provider_import, "create or update services from the provider's catalog")
    sub.add_argument("name")
    sub.add_argument("--markup", type=amount_arg, default=0, help="percent added to the provider's rate")
    sub.add_argument("--fixed", type=amount_arg, default=0, help="amount per 1000 added after the percent markup")
    sub.add_argument("--category", help="put every imported service in this category")
    sub.add_argument("--services", help="only these provider service ids, comma-separated")
    sub.add_argument("--rounding", type=enum_arg(Rounding), default=Rounding.EXACT, help="round up to 2, 3, 5 or x9")
    sub.add_argument("--preview", action="store_true", help="show the provider's catalog as it would be imported")
    sub.add_argument("--search", default="", help="with --preview: only ids or names matching this")
    sub.add_argument("--in-category", default="", help="with --preview: only the provider's services of this category")
    add_catalog_provider_commands(provider, command)
    sub = command(provider, "cancel-waiting", provider_cancel_waiting, "cancel and refund every order waiting for it")
    sub.add_argument("name")
    sub = command(groups, "worker", worker, "run the order engine")
    sub.add_argument("--once", action="store_true", help="one pass of all due work, then exit")
    sub.set_defaults(long_running=True)  # a pool of SMMPANEL_DB_POOL_SIZE connections


def add_engine_order_commands(order: Any, service: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    command(order, "attention", order_attention, "orders the engine could not settle alone").add_argument(
        "--limit", type=positive_int, default=100
    )
    command(order, "resend", _attention_action(fulfilment.resend, "queued again"), "send again").add_argument(
        "order_id", type=positive_int
    )
    command(order, "fail", _attention_action(fulfilment.fail, "failed, refunded"), "cancel and refund").add_argument(
        "order_id", type=positive_int
    )
    sub = command(order, "set-upstream", _attention_action(fulfilment.set_upstream, "linked"), "record the upstream id")
    sub.add_argument("order_id", type=positive_int)
    sub.add_argument("provider_order_id", type=positive_int)
    command(order, "stop", order_stop, "stop a drip-feed, refunding runs not placed").add_argument(
        "order_id", type=positive_int
    )
    sub = command(service, "link", service_link, "map a service onto a provider's service")
    sub.add_argument("service_id", type=positive_int)
    sub.add_argument("--provider", required=True)
    sub.add_argument("--provider-service", type=positive_int, required=True)
    sub.add_argument("--priority", type=int, default=0, help="lower is tried first")
    add_catalog_service_commands(service, command)
