"""Customers: creation, keys, funding, and the ledger check."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from smmpanel.clock import utcnow
from smmpanel.db.cache import KEYS
from smmpanel.db.repositories import Customer, LedgerEntry, LedgerMismatch
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.ledger import EntryKind
from smmpanel.domain.roles import Role
from smmpanel.errors import NotFound, Refused
from smmpanel.i18n import N_
from smmpanel.keys import hash_api_key, new_api_key
from smmpanel.money import Units, format_amount
from smmpanel.passwords import hash_password, password_matches, password_problem
from smmpanel.usecases import email_accounts
from smmpanel.usecases.affiliates import tie_referral
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.money_moves import post_entry
from smmpanel.usecases.sessions import end_user_sessions

USERNAME_MAX_LENGTH = 64
"""The column's size: a longer name is nobody's."""
BAD_INVITE = N_("This invite link is not valid any more (it was used or withdrawn).")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


@dataclass(frozen=True)
class NewKey:
    username: str
    api_key: str
    balance: Units


async def _existing(db: Database, username: str) -> Customer:
    async with db.read() as repos:
        customer = await repos.users.by_username(username)
    if customer is None:
        raise NotFound(f"no user named {username!r}")
    return customer


async def create_customer(
    db: Database,
    username: str,
    balance: Units = 0,
    *,
    password: str | None = None,
    admin: bool = False,
    staff_role: Role | None = None,
    audit: Audit | None = None,
    email: str | None = None,
    site: str = "",
    referral_code: str = "",
    invite_hash: str | None = None,
) -> NewKey:
    """Create a customer (or an operator) and return its API key: the only time the key is ever shown.

    With ``email``, the address is mailed its verification link (to the panel at ``site`` unless
    the operator has set the panel's address). ``referral_code`` (from a referral link) ties the
    new customer to its owner for good. ``invite_hash`` (an invite-only panel) is spent in the
    same transaction: an invite already spent refuses the account.
    """
    if not _USERNAME.fullmatch(username):  # ASCII only: no look-alike letters, no bidirectional controls
        raise Refused("username must be 3-64 letters, digits, '_', '.' or '-'")
    if balance < 0:
        raise Refused("opening balance must not be negative")
    address = None if email is None else email_accounts.checked_email(email)
    problem = None if password is None else password_problem(password)
    if problem:
        raise Refused(problem)
    key = new_api_key()
    now = utcnow()
    password_hash = None if password is None else await hash_password(password)
    async with db.write() as repos:
        if await repos.users.by_username(username) is not None:
            raise Refused("user %(username)r already exists", username=username)
        role = staff_role or (Role.OWNER if admin else Role.CUSTOMER)
        user_id = await repos.users.add(username, hash_api_key(key), now, role=role, password_hash=password_hash)
        if invite_hash is not None and not await repos.invites.use(invite_hash, user_id, now):
            raise Refused(BAD_INVITE)
        await post_entry(repos, user_id=user_id, kind=EntryKind.TOPUP, amount=balance, now=now, note="opening balance")
        facts = {"role": str(role), "balance": format_amount(balance)}
        await audited(repos, audit, f"{'staff' if staff_role else 'customer'}.create", f"user {username}", None, facts)
        if address is not None:
            await email_accounts.attach_email(repos, user_id, username, address, site, now)
        await tie_referral(repos, user_id, referral_code)
    return NewKey(username, key, balance)


async def authenticate(db: Database, key: str | None) -> Customer | None:
    """The enabled customer holding ``key``, or None: callers answer every miss the same way.

    The key is looked up by its SHA-256 digest, so the database compares digests,
    never the key: how long a lookup takes tells nothing about the key itself.
    Found customers are cached by digest (``smmpanel.db.cache``, topic ``keys``): a key rotated
    or a customer disabled stops working at once in this process and within the cache's
    seconds in others. The answer's ``balance`` may be old: read it with ``balance_of``.
    """
    if not key:
        return None
    key_hash = hash_api_key(key)

    async def load() -> Customer | None:
        async with db.read() as repos:
            return await repos.users.by_key_hash(key_hash)

    customer = await db.cached(KEYS).fetch(key_hash, load, db.cache_seconds, keep=lambda found: found is not None)
    if customer is None or customer.disabled:
        return None
    return customer


async def balance_of(db: Database, user_id: int) -> Units:
    balance = await db.direct.balance(user_id)
    if balance is None:
        raise NotFound(f"no customer {user_id}")
    return balance


async def list_customers(db: Database) -> list[Customer]:
    async with db.read() as repos:
        return await repos.users.all()


async def fund(db: Database, username: str, amount: Units, note: str = "", *, audit: Audit | None = None) -> Units:
    """A top-up (positive) or a correction (negative); a correction never takes a balance below zero."""
    if amount == 0:
        raise Refused("amount must not be zero")
    customer = await _existing(db, username)
    kind = EntryKind.TOPUP if amount > 0 else EntryKind.ADJUSTMENT
    async with db.write() as repos:
        try:
            balance = await post_entry(repos, user_id=customer.id, kind=kind, amount=amount, now=utcnow(), note=note)
        except Refused:
            raise Refused("correction would take %(username)s's balance below zero", username=username) from None
        # The balance before is what this very update started from, whatever ran concurrently.
        before = {"balance": format_amount(balance - amount)}
        after = {"balance": format_amount(balance), "amount": format_amount(amount), "note": note}
        await audited(repos, audit, f"customer.{kind.value}", f"customer {username}", before, after)
        return balance


async def rotate_key(db: Database, username: str, *, audit: Audit | None = None) -> NewKey:
    customer = await _existing(db, username)
    key = new_api_key()
    async with db.write() as repos:
        await repos.users.set_key_hash(customer.id, hash_api_key(key))
        await audited(repos, audit, "customer.rotate_key", f"customer {username}", None, {"key": "rotated"})
        balance = await repos.users.balance(customer.id)
    return NewKey(username, key, balance)


async def set_disabled(db: Database, username: str, disabled: bool, *, audit: Audit | None = None) -> None:
    customer = await _existing(db, username)
    async with db.write() as repos:
        await repos.users.set_disabled(customer.id, disabled)
        if disabled:
            await end_user_sessions(repos, customer.id)
        before, after = {"disabled": customer.disabled}, {"disabled": disabled}
        action = "customer.disable" if disabled else "customer.enable"
        await audited(repos, audit, action, f"customer {username}", before, after)


async def ledger_of(db: Database, username: str, limit: int) -> tuple[Customer, list[LedgerEntry]]:
    customer = await _existing(db, username)
    async with db.read() as repos:
        return customer, await repos.ledger.entries(customer.id, limit)


async def verify_ledger(db: Database) -> list[LedgerMismatch]:
    async with db.read() as repos:
        return await repos.ledger.mismatches()


INVALID_LOGIN = "Invalid username or password"


async def log_in(db: Database, username: str, password: str) -> Customer:
    """The enabled user with that name and password; one message for every failure."""
    async with db.read() as repos:
        customer = await repos.users.by_username(username.strip())
    if customer is None or customer.disabled or not await password_matches(password, customer.password_hash):
        raise Refused(INVALID_LOGIN)
    return customer


async def set_password(db: Database, username: str, password: str) -> None:
    """The operator sets (or resets) someone's dashboard password."""
    problem = password_problem(password)
    if problem:
        raise Refused(problem)
    customer = await _existing(db, username)
    password_hash = await hash_password(password)  # before the transaction: it takes a while
    async with db.write() as repos:
        await repos.users.set_password_hash(customer.id, password_hash)
        await end_user_sessions(repos, customer.id)


async def change_password(
    db: Database, user_id: int, current: str, new: str, *, keep_session: str | None = None
) -> None:
    """Every session of the user ends but ``keep_session`` (the one that asked)."""
    async with db.read() as repos:
        customer = await repos.users.by_id(user_id)
    if customer is None or not await password_matches(current, customer.password_hash):
        raise Refused("Current password is wrong")
    problem = password_problem(new)
    if problem:
        raise Refused(problem)
    password_hash = await hash_password(new)
    async with db.write() as repos:
        await repos.users.set_password_hash(user_id, password_hash)
        await end_user_sessions(repos, user_id, except_session=keep_session)


async def customer_by_id(db: Database, user_id: int) -> Customer | None:
    async with db.read() as repos:
        return await repos.users.by_id(user_id)


SESSION_SECRET = "session_secret"


async def session_secret(db: Database) -> str:
    """The key that signs dashboard sessions: made once, then shared by every process."""
    async with db.read() as repos:
        secret = await repos.settings.get(SESSION_SECRET)
    if secret is None:
        async with db.write() as repos:
            secret = await repos.settings.get(SESSION_SECRET)  # another process may have been first
            if secret is None:
                secret = secrets.token_urlsafe(48)
                await repos.settings.put(SESSION_SECRET, secret)
    return secret
