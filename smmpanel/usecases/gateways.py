"""The operator's payment gateways: add, change, enable and disable, list.

A gateway's options are checked against its kind's declared ``Option``s (``smmpanel.gateways``):
an unknown option or a missing required one is refused before anything is stored. Secret
options are never shown back in full (``shown_options``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from smmpanel.clock import utcnow
from smmpanel.db.payment_repositories import GatewayRecord
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import NotFound, Refused
from smmpanel.gateways.registry import adapter_class
from smmpanel.money import Units, format_amount
from smmpanel.usecases.audit import Audit, Facts, audited

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class GatewayChanges:
    """What to set on a gateway; None leaves a field as it is. ``options`` are merged in."""

    display_name: str | None = None
    enabled: bool | None = None
    min_amount: Units | None = None
    max_amount: Units | None = None
    clear_max: bool = False
    fee_percent: Units | None = None
    bonus_percent: Units | None = None
    bonus_from: Units | None = None
    instructions: str | None = None
    position: int | None = None
    options: Mapping[str, str] = field(default_factory=dict)


def check_options(kind: str, options: Mapping[str, str], *, partial: bool = False) -> dict[str, str]:
    """The options a kind takes, stripped; refuses unknown ones and (unless ``partial``) missing ones."""
    try:
        cls = adapter_class(kind)
    except ValueError as error:
        raise Refused(str(error)) from None
    declared = {option.name: option for option in cls.options}
    unknown = sorted(set(options) - set(declared))
    if unknown:
        raise Refused("%(kind)s gateways take no option %(option)r", kind=kind, option=unknown[0])
    values = {name: value.strip() for name, value in options.items()}
    if not partial:
        missing = [o.flag for o in cls.options if o.default is None and not values.get(o.name)]
        if missing:
            raise Refused("%(kind)s gateways need %(options)s", kind=kind, options=", ".join(missing))
    return values


def shown_options(gateway: GatewayRecord) -> dict[str, str]:
    """The gateway's options for display: secrets reduced to their last four characters."""
    secret = {option.name for option in adapter_class(gateway.kind).options if option.secret}
    return {
        name: ("…" + str(value)[-4:] if name in secret and value else str(value))
        for name, value in gateway.config.items()
    }


def _check_name(name: str) -> str:
    name = name.strip().lower()
    if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
        raise Refused("a gateway name is 1 to 64 of a-z, 0-9, - and _ (it is part of the webhook's URL)")
    return name


def _check_limits(values: Mapping[str, Any]) -> None:
    minimum, maximum = values.get("min_amount", 0), values.get("max_amount")
    if minimum < 0 or (maximum is not None and maximum < minimum):
        raise Refused("the maximum must not be below the minimum, nor the minimum below zero")
    for name in ("fee_percent", "bonus_percent", "bonus_from"):
        if values.get(name, 0) < 0:
            raise Refused("%(field)s must not be negative", field=name.replace("_", " "))


def gateway_facts(gateway: GatewayRecord) -> Facts:
    """The gateway as the audit log and the CLI show it: amounts as text, secrets masked."""
    return {
        "kind": gateway.kind,
        "display_name": gateway.display_name,
        "enabled": gateway.enabled,
        "min": format_amount(gateway.min_amount),
        "max": None if gateway.max_amount is None else format_amount(gateway.max_amount),
        "fee_percent": format_amount(gateway.fee_percent),
        "bonus_percent": format_amount(gateway.bonus_percent),
        "bonus_from": format_amount(gateway.bonus_from),
        "options": shown_options(gateway),
    }


async def add_gateway(
    db: Database,
    kind: str,
    name: str,
    *,
    options: Mapping[str, str],
    changes: GatewayChanges | None = None,
    audit: Audit | None = None,
) -> GatewayRecord:
    """A new gateway of ``kind``; its name must be unique (several gateways of one kind are fine)."""
    name = _check_name(name)
    config = check_options(kind, options)
    changes = changes or GatewayChanges()
    values = _values(changes)
    values.setdefault("display_name", adapter_class(kind).title)
    _check_limits(values)
    now = utcnow()
    try:
        async with db.write() as repos:
            if await repos.gateways.by_name(name) is not None:
                raise Refused("a gateway named %(name)r already exists", name=name)
            gateway_id = await repos.gateways.add({"name": name, "kind": kind, "config": config, **values}, now)
            gateway = await repos.gateways.get(gateway_id)
            assert gateway is not None
            await audited(repos, audit, "gateway.add", f"gateway {name}", None, gateway_facts(gateway))
            return gateway
    except sa.exc.IntegrityError:
        raise Refused("a gateway named %(name)r already exists", name=name) from None


def _values(changes: GatewayChanges) -> dict[str, Any]:
    values = {
        name: getattr(changes, name)
        for name in (
            "display_name",
            "enabled",
            "min_amount",
            "max_amount",
            "fee_percent",
            "bonus_percent",
            "bonus_from",
            "instructions",
            "position",
        )
        if getattr(changes, name) is not None
    }
    if changes.clear_max:
        values["max_amount"] = None
    if "display_name" in values:
        values["display_name"] = values["display_name"].strip()[:255]
        if not values["display_name"]:
            raise Refused("the display name must not be empty")
    return values


async def update_gateway(
    db: Database, name: str, changes: GatewayChanges, *, audit: Audit | None = None
) -> GatewayRecord:
    async with db.write() as repos:
        gateway = await repos.gateways.by_name(name)
        if gateway is None:
            raise NotFound(f"no payment gateway {name!r}")
        values = _values(changes)
        if changes.options:
            values["config"] = {**gateway.config, **check_options(gateway.kind, changes.options, partial=True)}
        _check_limits({"min_amount": gateway.min_amount, "max_amount": gateway.max_amount, **values})
        await repos.gateways.update(gateway.id, values, utcnow())
        updated = await repos.gateways.get(gateway.id)
        assert updated is not None
        await audited(repos, audit, "gateway.update", f"gateway {name}", gateway_facts(gateway), gateway_facts(updated))
        return updated


async def list_gateways(db: Database, *, enabled_only: bool = False) -> list[GatewayRecord]:
    async with db.read() as repos:
        return await repos.gateways.listing(enabled_only=enabled_only)


async def gateway_named(db: Database, name: str) -> GatewayRecord:
    async with db.read() as repos:
        gateway = await repos.gateways.by_name(name)
    if gateway is None:
        raise NotFound(f"no payment gateway {name!r}")
    return gateway
