"""The operator's catalog: create, change, reprice, reorder and retire services."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from smmpanel.clock import utcnow
from smmpanel.db.cache import CATALOG
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.domain.pricing import adjusted_rate
from smmpanel.errors import NotFound, Refused
from smmpanel.money import Units, format_amount
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.catalog_sync import mark_operator_fields

T = TypeVar("T")


@dataclass(frozen=True)
class ServiceChanges:
    """The fields an operator may set; None leaves a field as it is."""

    name: str | None = None
    category: str | None = None
    type: ServiceType | None = None
    rate: Units | None = None
    min: int | None = None
    max: int | None = None
    refill: bool | None = None
    cancel: bool | None = None
    description: str | None = None
    enabled: bool | None = None
    refill_days: int | None = None
    deny_duplicate_link: bool | None = None
    position: int | None = None
    price_locked: bool | None = None

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def _check(service: Service) -> None:
    if not service.name.strip() or len(service.name) > 255:
        raise Refused("name must be 1-255 characters")
    if not service.category.strip() or len(service.category) > 255:
        raise Refused("category must be 1-255 characters")
    if service.rate < 0:
        raise Refused("rate must not be negative")
    if service.min < 1 or service.max < service.min:
        raise Refused("min must be at least 1 and max at least min")
    if service.refill_days < 0:
        raise Refused("refill days must not be negative")


_NOT_STORED = {"id", "hidden"}
"""Fields of a ``Service`` that are not columns of its row (``hidden`` belongs to its category)."""


def _row(service: Service) -> dict[str, object]:
    values = {f.name: getattr(service, f.name) for f in fields(service) if f.name not in _NOT_STORED}
    values["type"] = service.type.value
    return values


def _facts(service: Service, names: Iterable[str]) -> dict[str, object]:
    """The named terms as the audit log keeps them (amounts as exact text)."""
    facts: dict[str, object] = {}
    for name in names:
        value = getattr(service, name)
        facts[name] = format_amount(value) if name == "rate" else value.value if name == "type" else value
    return facts


def _differences(before: Service, after: Service) -> list[str]:
    return [f.name for f in fields(Service) if getattr(before, f.name) != getattr(after, f.name)]


async def create_service(db: Database, changes: ServiceChanges, *, audit: Audit | None = None) -> int:
    draft = Service(
        id=0,
        name="",
        category="",
        type=ServiceType.DEFAULT,
        rate=0,
        min=1,
        max=1,
        refill=False,
        cancel=False,
        description="",
        enabled=True,
        refill_days=30,
        deny_duplicate_link=False,
    )
    service = replace(draft, **changes.given())
    _check(service)
    async with db.write() as repos:
        service_id = await repos.services.add(_row(service), utcnow())
        after = _facts(service, [f.name for f in fields(Service) if f.name not in _NOT_STORED])
        await audited(repos, audit, "service.create", f"service {service_id}", None, after)
    return service_id


async def update_service(
    db: Database, service_id: int, changes: ServiceChanges, *, audit: Audit | None = None
) -> Service:
    """Change a service's terms; orders already placed keep what they were charged."""
    async with db.write() as repos:
        current = await repos.services.get(service_id)
        if current is None:
            raise NotFound(f"no service {service_id}")
        service = replace(current, **changes.given())
        _check(service)
        await repos.services.update(service_id, _row(service), utcnow())
        changed = _differences(current, service)
        if audit is not None:  # an operator's edit (dashboard, CLI): a provider sync leaves these fields alone
            await mark_operator_fields(repos, service_id, changed)
        if changed:
            target = f"service {service_id}"
            await audited(repos, audit, "service.update", target, _facts(current, changed), _facts(service, changed))
    return service


@dataclass
class RateChange:
    changed: dict[int, tuple[Units, Units]] = field(default_factory=dict)
    """Service id → (old rate, new rate)."""
    locked: list[int] = field(default_factory=list)
    """Selected services left alone because their price is locked."""


async def change_rates(
    db: Database, service_ids: Iterable[int], percent: Units, *, audit: Audit | None = None
) -> RateChange:
    """Raise (or lower, with a negative ``percent``) the rate of many services at once, in one transaction.

    Price-locked services keep their rate; they are reported, not changed.
    """
    if percent == 0:
        raise Refused("percent must not be zero")
    ids = sorted(set(service_ids))
    if not ids:
        raise Refused("select at least one service")
    result = RateChange()
    now = utcnow()
    async with db.write() as repos:
        found = await repos.services.many(ids)
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"no service {missing[0]}")
        for service_id in ids:
            service = found[service_id]
            if service.price_locked:
                result.locked.append(service_id)
                continue
            rate = adjusted_rate(service.rate, percent)
            if rate != service.rate:
                await repos.services.update(service_id, {"rate": rate}, now)
                result.changed[service_id] = (service.rate, rate)
        if result.changed:
            before = {str(i): format_amount(old) for i, (old, _) in result.changed.items()}
            after = {str(i): format_amount(new) for i, (_, new) in result.changed.items()}
            after["percent"] = format_amount(percent)
            target = f"{len(result.changed)} services"
            await audited(repos, audit, "service.bulk_rate", target, before, after)
    return result


async def bulk_update(
    db: Database, service_ids: Iterable[int], changes: ServiceChanges, *, audit: Audit | None = None
) -> int:
    """Switch many services on or off, or move them to a category, in one transaction; how many changed."""
    ids = sorted(set(service_ids))
    if not ids:
        raise Refused("select at least one service")
    if changes.category is not None and (not changes.category.strip() or len(changes.category) > 255):
        raise Refused("category must be 1-255 characters")
    async with db.write() as repos:
        found = await repos.services.many(ids)
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"no service {missing[0]}")
        moved = [i for i in ids if replace(found[i], **changes.given()) != found[i]]
        for service_id in moved:
            await repos.services.update(service_id, changes.given(), utcnow())
        if moved:
            await audited(repos, audit, "service.bulk", f"{len(moved)} services", {"ids": moved}, changes.given())
    return len(moved)


def _grouped(listing: list[Service]) -> list[tuple[str, list[Service]]]:
    groups: dict[str, list[Service]] = {}
    for service in listing:
        groups.setdefault(service.category, []).append(service)
    return list(groups.items())


async def catalog_by_category(db: Database) -> list[tuple[str, list[Service]]]:
    """Every service, grouped by category, in the order customers see them."""
    return _grouped(await list_services(db, enabled_only=False))


def _moved(items: list[T], index: int, step: int) -> bool:
    """Swap an item with its neighbour; False when it is already at that end."""
    target = index + step
    if not 0 <= target < len(items):
        return False
    items[index], items[target] = items[target], items[index]
    return True


async def move_service(db: Database, service_id: int, step: int) -> None:
    """Move a service one place up (``step=-1``) or down within its category, renumbering the category."""
    now = utcnow()
    async with db.write() as repos:
        groups = dict(_grouped(await repos.services.listing(enabled_only=False)))
        service = await repos.services.get(service_id)
        if service is None:
            raise NotFound(f"no service {service_id}")
        siblings = [s.id for s in groups[service.category]]
        if not _moved(siblings, siblings.index(service_id), step):
            return
        for index, sibling in enumerate(siblings):
            await repos.services.update(sibling, {"position": (index + 1) * 10}, now)


async def move_category(db: Database, name: str, step: int) -> None:
    """Move a category one place up (``step=-1``) or down; every category gets a stored position."""
    async with db.write() as repos:
        names = [category for category, _ in _grouped(await repos.services.listing(enabled_only=False))]
        if name not in names:
            raise NotFound(f"no category {name!r}")
        _moved(names, names.index(name), step)
        await repos.categories.put_positions({n: (i + 1) * 10 for i, n in enumerate(names)})


async def rename_category(db: Database, old: str, new: str, *, audit: Audit | None = None) -> int:
    """Give a category a new name (its services and its place follow); refused onto an existing one."""
    new = new.strip()
    if not new or len(new) > 255:
        raise Refused("category must be 1-255 characters")
    async with db.write() as repos:
        names = {category for category, _ in _grouped(await repos.services.listing(enabled_only=False))}
        if old not in names:
            raise NotFound(f"no category {old!r}")
        if new in names:
            raise Refused("category %(new)r already exists: move its services instead", new=new)
        moved = await repos.upkeep.categories.rename(old, new, utcnow())
        await audited(repos, audit, "category.rename", f"category {old}", {"name": old}, {"name": new})
    return moved


async def hide_category(db: Database, name: str, hidden: bool, *, audit: Audit | None = None) -> None:
    """Hide a category from customers (its services leave their catalog and cannot be ordered) or show it
    again; orders already placed are untouched."""
    async with db.write() as repos:
        names = {category for category, _ in _grouped(await repos.services.listing(enabled_only=False))}
        if name not in names:
            raise NotFound(f"no category {name!r}")
        await repos.categories.put_hidden(name, hidden)
        action = "category.hide" if hidden else "category.show"
        await audited(repos, audit, action, f"category {name}", {"hidden": not hidden}, {"hidden": hidden})


async def list_services(db: Database, *, enabled_only: bool) -> list[Service]:
    """The catalog in the operator's order, from the process's cache (``smmpanel.db.cache``, topic ``catalog``)."""

    async def load() -> tuple[Service, ...]:
        async with db.read() as repos:
            return tuple(await repos.services.listing(enabled_only=enabled_only))

    return list(await db.cached(CATALOG).fetch(("listing", enabled_only), load, db.cache_seconds))


async def service_by_id(db: Database, service_id: int) -> Service | None:
    """One service, enabled or not, from the same cache as ``list_services``."""

    async def load() -> Service | None:
        async with db.read() as repos:
            return await repos.services.get(service_id)

    return await db.cached(CATALOG).fetch(("service", service_id), load, db.cache_seconds)
