"""Who may create an account on the dashboard: anyone, nobody, or the holder of an unused invite.

An invite is a one-use link the operator makes (``/signup?invite=TOKEN``); only the token's
SHA-256 is kept. Spending it and creating the account happen in one transaction, so a token
can never open two accounts and a refused sign-up never spends one.
"""

from __future__ import annotations

import hashlib
import secrets

from smmpanel.clock import utcnow
from smmpanel.db.invites_repository import Invite
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.branding import SignupMode
from smmpanel.errors import Refused
from smmpanel.i18n import N_
from smmpanel.usecases import accounts, branding
from smmpanel.usecases.accounts import NewKey
from smmpanel.usecases.audit import Audit, audited

CLOSED = N_("Sign-up is closed on this panel.")
NEED_INVITE = N_("This panel is open by invitation only: use the invite link you were given.")
BAD_INVITE = accounts.BAD_INVITE
NOTE_MAX = 120


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def refusal(db: Database, invite: str) -> str | None:
    """Why the sign-up form would be refused before anyone types, or None when it may be used."""
    mode = (await branding.current(db)).signup
    if mode is SignupMode.CLOSED:
        return CLOSED
    if mode is SignupMode.INVITE:
        if not invite:
            return NEED_INVITE
        async with db.read() as repos:
            if not await repos.invites.is_usable(_digest(invite)):
                return BAD_INVITE
    return None


async def sign_up(
    db: Database, username: str, password: str, *, email: str | None, site: str, referral_code: str, invite: str
) -> NewKey:
    """Create a customer account from the public form, as the panel's signup mode allows (its API key)."""
    problem = await refusal(db, invite)
    if problem:
        raise Refused(problem)
    spend = _digest(invite) if (await branding.current(db)).signup is SignupMode.INVITE else None
    return await accounts.create_customer(
        db, username, password=password, email=email, site=site, referral_code=referral_code, invite_hash=spend
    )


async def create_invite(db: Database, note: str, *, audit: Audit) -> str:
    """A new one-use token; the only time it is shown (the link is made from it)."""
    note = " ".join(note.split())
    if len(note) > NOTE_MAX:
        raise Refused("The note is too long (at most %(note_max)s characters)", note_max=NOTE_MAX)
    token = secrets.token_urlsafe(18)
    async with db.write() as repos:
        invite_id = await repos.invites.add(_digest(token), note, audit.actor, utcnow())
        await audited(repos, audit, "invite.create", f"invite {invite_id}", None, {"note": note})
    return token


async def revoke_invite(db: Database, invite_id: int, *, audit: Audit) -> None:
    async with db.write() as repos:
        if not await repos.invites.revoke(invite_id, utcnow()):
            raise Refused("That invite was already used or withdrawn")
        await audited(repos, audit, "invite.revoke", f"invite {invite_id}", None, None)


async def list_invites(db: Database) -> list[Invite]:
    async with db.read() as repos:
        return await repos.invites.newest()
