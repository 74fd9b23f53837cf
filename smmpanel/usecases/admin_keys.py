"""Admin API keys: made by the owner, shown once, stored hashed, revoked but never deleted.

Each key carries a staff role. ``allows`` is the one place that says what a role may do
through the admin API, so that the panel's staff roles can take it over in one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smmpanel.clock import utcnow
from smmpanel.db.admin_api_repositories import AdminKey
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.roles import STAFF_ROLES, Permission, Role, may
from smmpanel.errors import NotFound, Refused
from smmpanel.keys import hash_api_key, new_api_key
from smmpanel.usecases.audit import Audit, audited

ROLES = tuple(role.value for role in STAFF_ROLES)
DEFAULT_ROLE = Role.ADMIN.value
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,48}$")

_PERMISSIONS: dict[tuple[str, bool], Permission] = {
    ("orders", False): Permission.ORDERS_READ,
    ("orders", True): Permission.ORDERS_WRITE,
    ("payments", False): Permission.PAYMENTS,
    ("payments", True): Permission.FUNDS,
    ("users", False): Permission.CUSTOMERS_READ,
    ("users", True): Permission.CUSTOMERS_WRITE,
    ("tickets", False): Permission.TICKETS,
    ("tickets", True): Permission.TICKETS,
}
"""The staff permission each admin API area needs, to read it or to change it (``orders`` covers
refills and cancels too): a key of a role may do through the API what that role may do on the dashboard."""


def allows(role: str, area: str, *, write: bool) -> bool:
    """Whether a key of ``role`` may read (or, with ``write``, change) the admin API's ``area``."""
    permission = _PERMISSIONS.get((area, write))
    return permission is not None and may(role, permission)


@dataclass(frozen=True)
class NewAdminKey:
    name: str
    api_key: str
    role: str


async def create_key(db: Database, name: str, role: str = DEFAULT_ROLE, *, audit: Audit | None = None) -> NewAdminKey:
    """A new key: the only time its text is ever shown."""
    if not _NAME.match(name):
        raise Refused("key name must be 1-48 letters, digits, '_', '.' or '-'")
    if role not in ROLES:
        raise Refused("role must be one of %(roles)s", roles=", ".join(ROLES))
    key = new_api_key()
    async with db.write() as repos:
        if await repos.admin_api.key_by_name(name) is not None:
            raise Refused("an admin API key named %(name)r already exists", name=name)
        await repos.admin_api.add_key(name, hash_api_key(key), role, utcnow())
        await audited(repos, audit, "admin_api.key_create", f"admin API key {name}", None, {"role": role})
    return NewAdminKey(name, key, role)


async def list_keys(db: Database) -> list[AdminKey]:
    async with db.read() as repos:
        return await repos.admin_api.keys()


async def revoke_key(db: Database, name: str, *, audit: Audit | None = None) -> AdminKey:
    """The key stops working at once, in every process (keys are not cached)."""
    async with db.write() as repos:
        key = await repos.admin_api.key_by_name(name)
        if key is None:
            raise NotFound(f"no admin API key named {name!r}")
        if key.active:
            await repos.admin_api.revoke(key.id, utcnow())
            await audited(repos, audit, "admin_api.key_revoke", f"admin API key {name}", None, {"revoked": True})
        revoked = await repos.admin_api.key_by_name(name)
    assert revoked is not None
    return revoked


async def authenticate_key(db: Database, key: str | None) -> AdminKey | None:
    """The active key with that text, or None. Looked up by its SHA-256 digest, as API v2's keys."""
    if not key:
        return None
    async with db.read() as repos:
        found = await repos.admin_api.key_by_hash(hash_api_key(key))
    return found if found is not None and found.active else None


def acting(key: AdminKey) -> Audit:
    """Who the audit log names for a change made with ``key``."""
    return Audit(f"admin-api:{key.name}")
