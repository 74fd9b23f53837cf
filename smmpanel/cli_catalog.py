"""CLI commands for the catalog's upkeep: provider currencies and syncs, loss rules, change lists."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from smmpanel.cli_support import Output, Result, enum_arg, positive_int, table
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.durations import format_duration, parse_duration
from smmpanel.domain.upstream_cost import LossRule
from smmpanel.money import format_amount
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import catalog, catalog_sync, outages
from smmpanel.usecases import import_preview as import_previews
from smmpanel.usecases.audit import Audit

CLI_AUDIT = Audit("cli")


def _duration_or_default(text: str) -> int | None:
    if text.strip().lower() == "default":
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


async def provider_update(db: Database, args: argparse.Namespace) -> Result:
    """Whatever was asked of: the outage limit, and/or billing and sync (shown when nothing else was asked)."""
    data: dict[str, object] = {"provider": args.name}
    said = []
    if hasattr(args, "outage_limit"):
        await outages.set_outage_limit(db, args.name, args.outage_limit)
        data["outage_limit"] = args.outage_limit
        said.append(f"outage limit {'default' if args.outage_limit is None else format_duration(args.outage_limit)}")
    if args.no_sync or any(value is not None for value in (args.currency, args.rate, args.sync_every)) or not said:
        billing = await catalog_sync.set_billing(
            db,
            args.name,
            currency=args.currency,
            exchange_rate=args.rate,
            sync_minutes=args.sync_every,
            no_sync=args.no_sync,
            audit=CLI_AUDIT,
        )
        data.update(currency=billing.currency, rate=billing.exchange_rate, sync_minutes=billing.sync_minutes)
        every = f"every {billing.sync_minutes} min" if billing.sync_minutes else "by hand only"
        said.append(f"{billing.currency or 'panel currency'} at {billing.exchange_rate}, synced {every}")
    return Result(data, f"{args.name}: " + "; ".join(said))


def _change_rows(changes: list[dict[str, object]]) -> list[Output]:
    return [{k: change[k] for k in ("service_id", "kind", "field", "old", "new")} for change in changes]


async def provider_sync(db: Database, args: argparse.Namespace) -> Result:
    pool = ClientPool(args.settings)
    try:
        changes = await catalog_sync.sync_catalog(db, pool, args.name)
    finally:
        await pool.aclose()
    rows = _change_rows(changes)
    text = table(rows, ["service_id", "kind", "field", "old", "new"]) if rows else f"{args.name}: nothing changed"
    return Result({"changes": rows}, text)


async def provider_changes(db: Database, args: argparse.Namespace) -> Result:
    changes = await catalog_sync.provider_changes(db, args.name, args.limit)
    rows: list[Output] = [
        {
            "at": change.created_at.isoformat(),
            "service_id": change.service_id,
            "kind": change.kind,
            "field": change.field,
            "old": change.old,
            "new": change.new,
        }
        for change in changes
    ]
    return Result({"changes": rows}, table(rows, ["at", "service_id", "kind", "field", "old", "new"]))


async def service_loss_rule(db: Database, args: argparse.Namespace) -> Result:
    await catalog_sync.set_loss_rule(db, args.service_id, args.rule, audit=CLI_AUDIT)
    return Result({"service": args.service_id, "loss_rule": args.rule.value}, f"service {args.service_id}: {args.rule}")


async def category_hide(db: Database, args: argparse.Namespace) -> Result:
    """``service category-hide NAME`` / ``category-show NAME``: keep a category off the customers' catalog."""
    hidden = args.cmd == "category-hide"
    await catalog.hide_category(db, args.name, hidden, audit=CLI_AUDIT)
    return Result({"category": args.name, "hidden": hidden}, f"category {args.name}: {'hidden' if hidden else 'shown'}")


async def import_preview(db: Database, args: argparse.Namespace) -> Result:
    """``provider import NAME --preview``: what an import would create or update, written nowhere."""
    pool = ClientPool(args.settings)
    try:
        preview = await import_previews.preview_catalog(
            db,
            pool,
            args.name,
            markup=args.markup,
            fixed=args.fixed,
            rounding=args.rounding,
            search=args.search,
            category=args.in_category,
        )
    finally:
        await pool.aclose()
    rows: list[Output] = [
        {
            "id": row.upstream.id,
            "name": row.upstream.name,
            "category": row.upstream.category,
            "type": row.upstream.type,
            "cost": format_amount(row.cost),
            "rate": format_amount(row.rate),
            "min": row.upstream.min,
            "max": row.upstream.max,
            "refill": row.upstream.refill,
            "cancel": row.upstream.cancel,
            "linked_to": row.linked_to,
        }
        for row in preview.rows
    ]
    columns = ["id", "name", "category", "type", "cost", "rate", "min", "max", "refill", "cancel", "linked_to"]
    return Result({"services": rows, "categories": preview.categories}, table(rows, columns))


def add_catalog_provider_commands(provider: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``provider update|sync|changes``."""
    sub = command(provider, "update", provider_update, "a provider's currency, rate, sync interval, outage limit")
    sub.add_argument("name")
    sub.add_argument("--currency", help="the currency the provider bills in, e.g. EUR")
    sub.add_argument("--rate", help="panel currency per unit of theirs, exact (e.g. 1.08)")
    sub.add_argument("--sync-every", type=positive_int, help="minutes between scheduled catalog syncs")
    sub.add_argument("--no-sync", action="store_true", help="no scheduled syncs (sync by hand)")
    sub.add_argument(
        "--outage-limit",
        type=_duration_or_default,
        default=argparse.SUPPRESS,
        help="how long orders wait out its outage: 6h, 90m, 1d, seconds, or 'default'",
    )
    command(provider, "sync", provider_sync, "sync the provider's catalog now").add_argument("name")
    sub = command(provider, "changes", provider_changes, "what the provider's syncs changed, newest first")
    sub.add_argument("name")
    sub.add_argument("--limit", type=positive_int, default=100)


def add_catalog_service_commands(service: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    sub = command(service, "loss-rule", service_loss_rule, "what to do when the provider's cost passes the rate")
    sub.add_argument("service_id", type=positive_int)
    sub.add_argument("rule", type=enum_arg(LossRule))
    for name, what in (("category-hide", "hide a category from customers"), ("category-show", "offer it again")):
        command(service, name, category_hide, what).add_argument("name")
