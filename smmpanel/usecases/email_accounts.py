"""Customers' email: the address on file, its verification link, changing it, and password reset.

Links carry a random token (``secrets.token_urlsafe``); the database keeps only its SHA-256, so
a copy of the database opens no account. A token is spent by one conditional update: a link
works once, however often or concurrently it is followed, and never after it expires.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from smmpanel.clock import utcnow
from smmpanel.db.notify_repositories import Contact
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import NotFound, Refused
from smmpanel.notify import EMAIL
from smmpanel.passwords import hash_password, password_matches, password_problem
from smmpanel.usecases.notifications import enqueue
from smmpanel.usecases.notify_settings import PUBLIC_URL
from smmpanel.usecases.sessions import end_user_sessions

VERIFY = "verify"
RESET = "reset"
VERIFY_HOURS = 48
RESET_MINUTES = 60
RESET_QUIET = timedelta(minutes=1)
"""A second "forgot password" within this time sends nothing: nobody can flood an inbox with links."""
MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INVISIBLE = re.compile(r"[\u0000-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

INVALID_LINK = "This link is invalid, already used or expired. Ask for a new one."
RESET_SENT = "If an account has this email address, we sent it a link to reset the password. It works for an hour."


def checked_email(text: str) -> str:
    """The address as stored: trimmed and lower-cased, one ``@``, no spaces or invisible characters."""
    email = text.strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email) or _INVISIBLE.search(email):
        raise Refused("Enter a valid email address, e.g. name@example.com")
    return email


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _site(repos: Repositories, fallback: str) -> str:
    """Where links point: the operator's panel address, else the one the caller was reached on."""
    return (await repos.settings.get(PUBLIC_URL) or fallback).rstrip("/")


async def _new_link(
    repos: Repositories,
    user_id: int,
    purpose: str,
    email: str | None,
    path: str,
    lifetime: timedelta,
    site: str,
    now: datetime,
) -> str:
    """A fresh single-use link; earlier unused links of the same kind stop working."""
    await repos.notify.tokens.spend_all(user_id, purpose, now)
    token = secrets.token_urlsafe(32)
    await repos.notify.tokens.add(user_id, purpose, _digest(token), email, now + lifetime, now)
    return f"{await _site(repos, site)}{path}?{urlencode({'token': token})}"


async def attach_email(repos: Repositories, user_id: int, username: str, email: str, site: str, now: datetime) -> None:
    """Give a new account its (unverified) address and mail it the verification link, in the caller's transaction."""
    if await repos.notify.emails.user_with(email) is not None:
        raise Refused("This email address is already used by another account")
    await repos.notify.emails.set(user_id, email, None)
    await _mail_verification(repos, user_id, username, email, site, now)


async def _mail_verification(
    repos: Repositories, user_id: int, username: str, email: str, site: str, now: datetime
) -> None:
    link = await _new_link(repos, user_id, VERIFY, email, "/verify-email", timedelta(hours=VERIFY_HOURS), site, now)
    values = {"username": username, "email": email, "link": link, "hours": VERIFY_HOURS}
    await enqueue(repos, EMAIL, email, "verify_email", values, now, user_id=user_id)


async def email_of(db: Database, user_id: int) -> Contact:
    async with db.read() as repos:
        contact = await repos.notify.emails.contact(user_id)
    if contact is None:
        raise NotFound(f"no customer {user_id}")
    return contact


async def resend_verification(db: Database, user_id: int, site: str) -> None:
    now = utcnow()
    async with db.write() as repos:
        contact = await repos.notify.emails.contact(user_id)
        if contact is None or not contact.email:
            raise Refused("Your account has no email address yet")
        if contact.verified:
            raise Refused("Your email address is already verified")
        await _mail_verification(repos, user_id, contact.username, contact.email, site, now)


async def verify_email(db: Database, token: str) -> None:
    """Follow a verification link: the address it was sent to is verified, once."""
    now = utcnow()
    async with db.write() as repos:
        used = await repos.notify.tokens.use(VERIFY, _digest(token), now)
        if (
            used is None
            or used.email is None
            or not await repos.notify.emails.mark_verified(used.user_id, used.email, now)
        ):
            raise Refused(INVALID_LINK)


async def change_email(db: Database, user_id: int, password: str, new_email: str, site: str) -> None:
    """A new address, unverified until its link is followed; the old address is told of the change."""
    email = checked_email(new_email)
    now = utcnow()
    async with db.read() as repos:
        customer = await repos.users.by_id(user_id)
    # checked before the write transaction: argon2 takes a while and must not hold the write lock
    if customer is None or not await password_matches(password, customer.password_hash):
        raise Refused("Current password is wrong")
    async with db.write() as repos:
        contact = await repos.notify.emails.contact(user_id)
        if contact is None:
            raise Refused("Current password is wrong")
        if email == contact.email:
            raise Refused("This is already your email address")
        if await repos.notify.emails.user_with(email) is not None:
            raise Refused("This email address is already used by another account")
        await repos.notify.emails.set(user_id, email, None)
        await _mail_verification(repos, user_id, contact.username, email, site, now)
        if contact.email:
            values = {"username": contact.username, "old_email": contact.email, "new_email": email}
            await enqueue(repos, EMAIL, contact.email, "email_changed", values, now, user_id=user_id)


async def must_verify_first(repos: Repositories, user_id: int) -> bool:
    """Whether the operator requires a verified email to order and this customer has none (one statement)."""
    return await repos.notify.emails.refused_unverified(user_id)


# --- password reset ----------------------------------------------------------------


async def _mail_reset(repos: Repositories, contact: Contact, site: str, now: datetime) -> None:
    assert contact.email is not None
    link = await _new_link(
        repos, contact.user_id, RESET, None, "/reset-password", timedelta(minutes=RESET_MINUTES), site, now
    )
    values = {"username": contact.username, "link": link, "minutes": RESET_MINUTES}
    await enqueue(repos, EMAIL, contact.email, "password_reset", values, now, user_id=contact.user_id)


async def send_password_reset(db: Database, user_id: int, site: str = "") -> None:
    """Mail a customer a reset link: the operator's "reset password" button.

    ``site`` is the panel's address for the link when the operator has not set one.
    """
    async with db.write() as repos:
        contact = await repos.notify.emails.contact(user_id)
        if contact is None:
            raise NotFound(f"no customer {user_id}")
        if not contact.email:
            raise Refused("%(username)s has no email address: set their password instead", username=contact.username)
        await _mail_reset(repos, contact, site, utcnow())


async def request_password_reset(db: Database, email_text: str, site: str) -> None:
    """ "Forgot password?": a link to the account with that address, if any; the caller answers
    ``RESET_SENT`` whatever happened, so nobody learns which addresses have accounts."""
    try:
        email = checked_email(email_text)
    except Refused:
        return
    now = utcnow()
    async with db.write() as repos:
        user_id = await repos.notify.emails.user_with(email)
        if user_id is None or await repos.notify.tokens.made_since(user_id, RESET, now - RESET_QUIET):
            return
        contact = await repos.notify.emails.contact(user_id)
        customer = await repos.users.by_id(user_id)
        if contact is not None and customer is not None and not customer.disabled:
            await _mail_reset(repos, contact, site, now)


async def reset_link_works(db: Database, token: str) -> bool:
    async with db.read() as repos:
        return await repos.notify.tokens.is_usable(RESET, _digest(token), utcnow())


async def reset_password(db: Database, token: str, new_password: str) -> None:
    """Set the password a reset link was sent for; the link is spent and every session ends.

    The link proves the customer reads the address it went to, so that address is verified too.
    """
    problem = password_problem(new_password)
    if problem:
        raise Refused(problem)
    password_hash = await hash_password(new_password)
    now = utcnow()
    async with db.write() as repos:
        used = await repos.notify.tokens.use(RESET, _digest(token), now)
        if used is None:
            raise Refused(INVALID_LINK)
        await repos.users.set_password_hash(used.user_id, password_hash)
        contact = await repos.notify.emails.contact(used.user_id)
        if contact is not None and contact.email and not contact.verified:
            await repos.notify.emails.mark_verified(used.user_id, contact.email, now)
        await end_user_sessions(repos, used.user_id)
