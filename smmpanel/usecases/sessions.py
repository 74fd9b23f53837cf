"""Dashboard sessions kept on the server, so that ending one really ends it.

The browser holds a random session id (inside the signed session cookie); the database
holds only its SHA-256 digest, with the user, when it started, when it was last seen and
whether it was ended. Logging out, changing a password, disabling a customer and "sign out
everywhere" end sessions here, and a copied cookie stops working at once in every process.

Checking a session is one primary-key read per request; ``last_seen_at`` is written at most
every ``TOUCH_SECONDS``, so a busy dashboard does not turn every page view into a write.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from smmpanel.clock import utcnow
from smmpanel.db.repositories import Customer, Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases.audit import Audit, audited

IDLE_LIMIT = timedelta(days=14)
"""A session unused for this long is over (the cookie's own lifetime, enforced here too)."""
TOUCH_SECONDS = 300


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


async def start_session(db: Database, user_id: int) -> str:
    """A new session for a user who just proved who they are; the id goes into the cookie only."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    async with db.write() as repos:
        await repos.sessions.prune(user_id, now - IDLE_LIMIT)
        await repos.sessions.add(_key(session_id), user_id, now)
    return session_id


async def session_user(db: Database, session_id: str) -> Customer | None:
    """The enabled user of a live session, or None when it ended, went idle or never existed."""
    now = utcnow()
    key = _key(session_id)
    async with db.read() as repos:
        live = await repos.sessions.live(key, now - IDLE_LIMIT)
        customer = None if live is None else await repos.users.by_id(live[0])
    if live is None or customer is None or customer.disabled:
        return None
    if (now - live[1]).total_seconds() > TOUCH_SECONDS:
        async with db.write() as repos:
            await repos.sessions.touch(key, now)
    return customer


async def end_session(db: Database, session_id: str) -> None:
    """Log out: this one session ends."""
    async with db.write() as repos:
        await repos.sessions.revoke(_key(session_id), utcnow())


async def end_user_sessions(repos: Repositories, user_id: int, *, except_session: str | None = None) -> int:
    """End a user's sessions inside the caller's transaction (a password change, disabling)."""
    keep = None if except_session is None else _key(except_session)
    return await repos.sessions.revoke_all(user_id, utcnow(), keep=keep)


async def end_sessions(
    db: Database, user_id: int, *, except_session: str | None = None, audit: Audit | None = None
) -> int:
    """Sign a user out everywhere (but ``except_session``, the caller's own); the number ended."""
    async with db.write() as repos:
        ended = await end_user_sessions(repos, user_id, except_session=except_session)
        if audit is not None:
            customer = await repos.users.by_id(user_id)
            target = f"customer {customer.username if customer else user_id}"
            await audited(repos, audit, "customer.end_sessions", target, None, {"sessions_ended": ended})
    return ended
