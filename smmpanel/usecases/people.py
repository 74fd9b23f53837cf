"""The operator manages people: create a customer, reset a password, log in as a customer.

Every change here is audited with the acting member of staff.
"""

from __future__ import annotations

import secrets

from smmpanel.db.repositories import Customer
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import NotFound, Refused
from smmpanel.money import Units
from smmpanel.passwords import hash_password
from smmpanel.usecases import accounts, email_accounts
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.sessions import end_user_sessions


def temporary_password() -> str:
    """A one-time password the operator passes on: 16 characters, about 96 random bits."""
    return secrets.token_urlsafe(12)


async def _customer(db: Database, customer_id: int) -> Customer:
    async with db.read() as repos:
        customer = await repos.users.by_id(customer_id)
    if customer is None or customer.is_admin:
        raise NotFound(f"no customer {customer_id}")
    return customer


async def create_customer(db: Database, username: str, balance: Units, *, audit: Audit) -> tuple[Customer, str]:
    """A new customer with a temporary password (answered, shown once) and an opening balance (a ledger entry)."""
    password = temporary_password()
    await accounts.create_customer(db, username, balance, password=password, audit=audit)
    async with db.read() as repos:
        customer = await repos.users.by_username(username)
    assert customer is not None
    return customer, password


async def set_disabled(db: Database, customer: Customer, disabled: bool, *, audit: Audit) -> None:
    """Disable or enable a customer; members of staff are the owner's, on the Staff page."""
    if customer.is_admin:
        raise Refused(
            "%(username)s is a member of staff: the owner manages staff on the Staff page", username=customer.username
        )
    await accounts.set_disabled(db, customer.username, disabled, audit=audit)


async def reset_password(
    db: Database, customer_id: int, *, site: str = "", audit: Audit
) -> tuple[Customer, str | None]:
    """The operator's "reset password": a customer with an email address is mailed a single-use reset
    link (``email_accounts.send_password_reset``; ``site`` is the panel's address for it) and no
    password is answered; one without gets a new temporary password, shown once to the operator
    (their old one stops working at once)."""
    customer = await _customer(db, customer_id)
    async with db.read() as repos:
        contact = await repos.notify.emails.contact(customer.id)
    target = f"customer {customer.username}"
    if contact is not None and contact.email:
        await email_accounts.send_password_reset(db, customer.id, site)
        async with db.write() as repos:
            await audited(repos, audit, "customer.reset_password", target, None, {"password": "reset link mailed"})
        return customer, None
    password = temporary_password()
    async with db.write() as repos:
        await repos.users.set_password_hash(customer.id, await hash_password(password))
        await end_user_sessions(repos, customer.id)
        await audited(repos, audit, "customer.reset_password", target, None, {"password": "temporary"})
    return customer, password


async def start_impersonation(db: Database, customer_id: int, *, write: bool, audit: Audit) -> Customer:
    """The customer a member of staff is about to see the panel as (audited)."""
    customer = await _customer(db, customer_id)
    if customer.disabled:
        raise Refused("%(username)s is disabled: enable the account to log in as them", username=customer.username)
    async with db.write() as repos:
        mode = {"mode": "read-write" if write else "read-only"}
        await audited(repos, audit, "customer.impersonate.start", f"customer {customer.username}", None, mode)
    return customer


async def end_impersonation(db: Database, staff_id: int, customer_id: int) -> Customer | None:
    """Back to the member of staff (audited); None when they can no longer open the admin side."""
    async with db.write() as repos:
        staff = await repos.users.by_id(staff_id)
        customer = await repos.users.by_id(customer_id)
        if staff is None or staff.disabled or not staff.is_admin:
            return None
        target = f"customer {customer.username if customer else customer_id}"
        await audited(repos, Audit(staff.username), "customer.impersonate.end", target, None, None)
    return staff
