"""Two-factor login: enrol (a secret confirmed by a first code), check a code at login, recovery codes.

Secrets are stored in the database as they are (base32), not encrypted: whoever reads the
database also holds the session-signing key kept beside them, so a key in the same place would
protect nothing. Recovery codes are stored only as SHA-256 digests.
The owner may require two-factor login for the owner and admin roles (``REQUIRED_SETTING``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from smmpanel.clock import utcnow
from smmpanel.db.repositories import Customer
from smmpanel.db.unit_of_work import Database
from smmpanel.domain import two_factor as rules
from smmpanel.domain.roles import TWO_FACTOR_ROLES, parse_role
from smmpanel.errors import Refused
from smmpanel.usecases.audit import Audit, audited

REQUIRED_SETTING = "two_factor_required_for_staff"
WRONG_CODE = "That code is not right (or was already used). Try the next one."


@dataclass(frozen=True)
class Enrolment:
    """A secret waiting for its first code, and what an authenticator app needs to learn it."""

    secret: str
    uri: str


@dataclass(frozen=True)
class TwoFactorState:
    enabled: bool
    recovery_codes_left: int


async def state(db: Database, user_id: int) -> TwoFactorState:
    async with db.read() as repos:
        found = await repos.two_factor.get(user_id)
        left = await repos.two_factor.unused_recovery_codes(user_id) if found and found.confirmed else 0
    return TwoFactorState(enabled=bool(found and found.confirmed), recovery_codes_left=left)


async def is_enabled(db: Database, user_id: int) -> bool:
    return (await state(db, user_id)).enabled


async def begin(db: Database, user: Customer) -> Enrolment:
    """A new secret for ``user``, unconfirmed until ``confirm``; refused while one is in use."""
    secret = rules.new_secret()
    async with db.write() as repos:
        found = await repos.two_factor.get(user.id)
        if found is not None and found.confirmed:
            raise Refused("Two-factor login is already on; turn it off first to enrol a new device")
        await repos.two_factor.start(user.id, secret, utcnow())
    return Enrolment(secret, rules.provisioning_uri(secret, user.username))


async def pending(db: Database, user: Customer) -> Enrolment | None:
    """The enrolment started and not yet confirmed, if any."""
    async with db.read() as repos:
        found = await repos.two_factor.get(user.id)
    if found is None or found.confirmed:
        return None
    return Enrolment(found.secret, rules.provisioning_uri(found.secret, user.username))


async def confirm(db: Database, user: Customer, code: str) -> list[str]:
    """Turn two-factor login on with the first right code; answers the recovery codes, shown once."""
    now = utcnow()
    async with db.write() as repos:
        found = await repos.two_factor.get(user.id)
        if found is None or found.confirmed:
            raise Refused("Start the enrolment again: there is no secret waiting for a first code")
        step = rules.matching_step(found.secret, code, time.time())
        if step is None or not await repos.two_factor.use_step(user.id, step, confirm_at=now):
            raise Refused(WRONG_CODE)
        codes = rules.new_recovery_codes()
        await repos.two_factor.add_recovery_codes(user.id, [rules.recovery_digest(c) for c in codes], now)
        await audited(repos, Audit(user.username), "two_factor.enable", f"user {user.username}", None, None)
    return codes


async def check_code(db: Database, user_id: int, code: str) -> None:
    """A login's second step: a TOTP code of a step not used before, or an unused recovery code."""
    now = utcnow()
    async with db.write() as repos:
        found = await repos.two_factor.get(user_id)
        if found is None or not found.confirmed:
            raise Refused(WRONG_CODE)
        if rules.looks_like_totp(code):
            step = rules.matching_step(found.secret, code, time.time())
            accepted = step is not None and await repos.two_factor.use_step(user_id, step)
        else:
            accepted = await repos.two_factor.use_recovery_code(user_id, rules.recovery_digest(code), now)
    if not accepted:
        raise Refused(WRONG_CODE)


async def turn_off(db: Database, user: Customer, code: str) -> None:
    """Remove the secret and the recovery codes, after a right code; refused while it is required."""
    if parse_role(user.role) in TWO_FACTOR_ROLES and await is_required(db):
        raise Refused("Two-factor login is required for your role: it cannot be turned off")
    await check_code(db, user.id, code)
    async with db.write() as repos:
        await repos.two_factor.remove(user.id)
        await audited(repos, Audit(user.username), "two_factor.disable", f"user {user.username}", None, None)


async def is_required(db: Database) -> bool:
    async with db.read() as repos:
        return await repos.settings.get(REQUIRED_SETTING) == "1"


async def set_required(db: Database, required: bool, *, audit: Audit) -> None:
    async with db.write() as repos:
        before = await repos.settings.get(REQUIRED_SETTING) == "1"
        await repos.settings.put(REQUIRED_SETTING, "1" if required else "0")
        if before != required:
            name = f"setting {REQUIRED_SETTING}"
            await audited(repos, audit, "setting.update", name, {"value": before}, {"value": required})


async def enrolment_required(db: Database, user: Customer) -> bool:
    """Whether ``user`` must enrol before anything else: a role that needs it, the owner's setting on."""
    if parse_role(user.role) not in TWO_FACTOR_ROLES:
        return False
    async with db.read() as repos:
        if await repos.settings.get(REQUIRED_SETTING) != "1":
            return False
        found = await repos.two_factor.get(user.id)
    return found is None or not found.confirmed
