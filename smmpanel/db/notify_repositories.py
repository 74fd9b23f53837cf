"""Email addresses, single-use account links, the outgoing message queue and notification preferences.

The queue is claimed like the engine claims orders (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
SQLite's write lock otherwise): a claimed message is ``sending`` until its lease ends, so only
one worker at a time makes a delivery attempt for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.tables import account_tokens, mail_queue, notification_prefs, panel_settings, providers, users
from smmpanel.money import Units

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to deliver on one channel."""

    id: int
    channel: str
    recipient: str
    event: str
    subject: str
    body_text: str
    body_html: str | None
    attempts: int


@dataclass(frozen=True, slots=True)
class Contact:
    user_id: int
    username: str
    email: str | None
    verified: bool


@dataclass(frozen=True, slots=True)
class Prefs:
    """A customer's own switches; everything on and no threshold until they change it."""

    off: frozenset[str] = frozenset()
    low_balance_below: Units | None = None
    telegram_chat_id: str | None = None


@dataclass(frozen=True, slots=True)
class UsedToken:
    user_id: int
    email: str | None


REQUIRE_VERIFIED_EMAIL = "require_verified_email"
"""The panel setting (``on``) that keeps customers without a verified address from ordering."""

UNVERIFIED_REFUSED = sa.and_(
    users.c.role == "customer",
    users.c.email_verified_at.is_(None),
    sa.exists().where(panel_settings.c.name == REQUIRE_VERIFIED_EMAIL, panel_settings.c.value == "on"),
)
"""A customer row without a verified address while the operator requires one (to order)."""
_UNVERIFIED_REFUSED = sa.select(users.c.id).where(users.c.id == sa.bindparam("user_id"), UNVERIFIED_REFUSED)


class Emails:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def contact(self, user_id: int) -> Contact | None:
        query = sa.select(users.c.id, users.c.username, users.c.email, users.c.email_verified_at)
        row = (await self._conn.execute(query.where(users.c.id == user_id))).first()
        return None if row is None else Contact(row.id, row.username, row.email, row.email_verified_at is not None)

    async def user_with(self, email: str) -> int | None:
        found = await self._conn.execute(sa.select(users.c.id).where(users.c.email == email))
        user_id = found.scalar_one_or_none()
        return None if user_id is None else int(user_id)

    async def set(self, user_id: int, email: str | None, verified_at: datetime | None) -> None:
        await self._conn.execute(
            users.update().where(users.c.id == user_id).values(email=email, email_verified_at=verified_at)
        )

    async def mark_verified(self, user_id: int, email: str, now: datetime) -> bool:
        """Verified only while the address is still the one the link was sent to."""
        result = await self._conn.execute(
            users.update().where(users.c.id == user_id, users.c.email == email).values(email_verified_at=now)
        )
        return result.rowcount == 1

    async def refused_unverified(self, user_id: int) -> bool:
        """A customer without a verified address while the operator requires one (API ``add``'s one extra read)."""
        return (await self._conn.execute(_UNVERIFIED_REFUSED, {"user_id": user_id})).first() is not None


def _live(purpose: str, token_hash: str, now: datetime) -> sa.ColumnElement[bool]:
    """The token, if it is of this purpose, unused and unexpired."""
    return sa.and_(
        account_tokens.c.token_hash == token_hash,
        account_tokens.c.purpose == purpose,
        account_tokens.c.used_at.is_(None),
        account_tokens.c.expires_at > now,
    )


class AccountTokens:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(
        self, user_id: int, purpose: str, token_hash: str, email: str | None, expires_at: datetime, now: datetime
    ) -> None:
        await self._conn.execute(
            account_tokens.insert().values(
                user_id=user_id,
                purpose=purpose,
                token_hash=token_hash,
                email=email,
                expires_at=expires_at,
                created_at=now,
            )
        )

    async def use(self, purpose: str, token_hash: str, now: datetime) -> UsedToken | None:
        """Spend a token: one conditional update, so a link works once however often it is followed."""
        result = await self._conn.execute(
            account_tokens.update()
            .where(_live(purpose, token_hash, now))
            .values(used_at=now)
            .returning(account_tokens.c.user_id, account_tokens.c.email)
        )
        row = result.first()
        return None if row is None else UsedToken(int(row.user_id), row.email)

    async def is_usable(self, purpose: str, token_hash: str, now: datetime) -> bool:
        query = sa.select(account_tokens.c.id).where(_live(purpose, token_hash, now))
        return (await self._conn.execute(query)).first() is not None

    async def made_since(self, user_id: int, purpose: str, since: datetime) -> bool:
        query = sa.select(account_tokens.c.id).where(
            account_tokens.c.user_id == user_id,
            account_tokens.c.purpose == purpose,
            account_tokens.c.created_at >= since,
        )
        return (await self._conn.execute(query.limit(1))).first() is not None

    async def spend_all(self, user_id: int, purpose: str, now: datetime) -> None:
        """Older links of the same kind stop working once one is used or a newer one is sent."""
        await self._conn.execute(
            account_tokens.update()
            .where(
                account_tokens.c.user_id == user_id,
                account_tokens.c.purpose == purpose,
                account_tokens.c.used_at.is_(None),
            )
            .values(used_at=now)
        )


LOW_BALANCE_CROSSED = (
    notification_prefs.update()
    .where(
        notification_prefs.c.user_id == sa.bindparam("owner"),
        notification_prefs.c.low_balance_below > sa.bindparam("new_balance"),
        notification_prefs.c.low_balance_alerted == sa.false(),
    )
    .values(low_balance_alerted=True)
    .returning(notification_prefs.c.low_balance_below)
)
_LOW_BALANCE_REARM = (
    notification_prefs.update()
    .where(
        notification_prefs.c.user_id == sa.bindparam("owner"),
        notification_prefs.c.low_balance_alerted == sa.true(),
        notification_prefs.c.low_balance_below <= sa.bindparam("new_balance"),
    )
    .values(low_balance_alerted=False)
)


class NotificationPrefs:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def of(self, user_id: int) -> Prefs:
        row = (
            await self._conn.execute(sa.select(notification_prefs).where(notification_prefs.c.user_id == user_id))
        ).first()
        if row is None:
            return Prefs()
        return Prefs(frozenset(row.off), row.low_balance_below, row.telegram_chat_id)

    async def put(self, user_id: int, prefs: Prefs) -> None:
        values: dict[str, Any] = {
            "off": sorted(prefs.off),
            "low_balance_below": prefs.low_balance_below,
            "telegram_chat_id": prefs.telegram_chat_id,
            "low_balance_alerted": False,
        }
        table = notification_prefs
        updated = await self._conn.execute(table.update().where(table.c.user_id == user_id).values(**values))
        if updated.rowcount == 0:
            await self._conn.execute(table.insert().values(user_id=user_id, **values))

    async def low_balance_crossed(self, user_id: int, balance: Units) -> Units | None:
        """The customer's threshold when ``balance`` has just gone under it (once until it is back above)."""
        found = await self._conn.execute(LOW_BALANCE_CROSSED, {"owner": user_id, "new_balance": balance})
        threshold = found.scalar_one_or_none()
        return None if threshold is None else int(threshold)

    async def rearm_low_balance(self, user_id: int, balance: Units) -> None:
        await self._conn.execute(_LOW_BALANCE_REARM, {"owner": user_id, "new_balance": balance})


class MailQueue:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(
        self, channel: str, recipient: str, event: str, subject: str, text: str, html: str | None, now: datetime
    ) -> int:
        result = await self._conn.execute(
            mail_queue.insert()
            .values(
                channel=channel,
                recipient=recipient,
                event=event,
                subject=subject,
                body_text=text,
                body_html=html,
                status=QUEUED,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .returning(mail_queue.c.id)
        )
        return int(result.scalar_one())

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Outgoing]:
        """Due messages, and attempts whose worker died (lease over), now ``sending`` until ``lease_until``."""
        due = sa.or_(
            sa.and_(mail_queue.c.status == QUEUED, mail_queue.c.next_attempt_at <= now),
            sa.and_(mail_queue.c.status == SENDING, mail_queue.c.lease_until < now),
        )
        query = sa.select(mail_queue.c.id).where(due).order_by(mail_queue.c.next_attempt_at, mail_queue.c.id)
        ids = [
            int(i) for i in (await self._conn.execute(query.limit(limit).with_for_update(skip_locked=True))).scalars()
        ]
        if not ids:
            return []
        await self._conn.execute(
            mail_queue.update()
            .where(mail_queue.c.id.in_(ids))
            .values(status=SENDING, lease_until=lease_until, attempts=mail_queue.c.attempts + 1)
        )
        rows = await self._conn.execute(sa.select(mail_queue).where(mail_queue.c.id.in_(ids)).order_by(mail_queue.c.id))
        return [
            Outgoing(r.id, r.channel, r.recipient, r.event, r.subject, r.body_text, r.body_html, r.attempts)
            for r in rows
        ]

    async def settle(self, message_id: int, lease_until: datetime, values: dict[str, Any]) -> None:
        """Record an attempt's outcome, only while the attempt is still this worker's own."""
        await self._conn.execute(
            mail_queue.update()
            .where(
                mail_queue.c.id == message_id, mail_queue.c.status == SENDING, mail_queue.c.lease_until == lease_until
            )
            .values(**values)
        )

    async def listing(self, statuses: Sequence[str], limit: int) -> list[dict[str, Any]]:
        query = sa.select(mail_queue).where(mail_queue.c.status.in_(statuses)).order_by(mail_queue.c.id.desc())
        return [dict(row._mapping) for row in await self._conn.execute(query.limit(limit))]


class ProviderChecks:
    """The engine's periodic balance check of each provider, and what the operator was last told."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, due_before: datetime, now: datetime, limit: int) -> list[int]:
        query = (
            sa.select(providers.c.id)
            .where(sa.or_(providers.c.checked_at.is_(None), providers.c.checked_at <= due_before))
            .order_by(providers.c.id)
            .limit(limit)
        )
        ids = [int(i) for i in (await self._conn.execute(query.with_for_update(skip_locked=True))).scalars()]
        if ids:
            await self._conn.execute(providers.update().where(providers.c.id.in_(ids)).values(checked_at=now))
        return ids

    async def swap_alert(self, provider_id: int, alert: str | None) -> str | None:
        """Record the provider's state (``low``, ``unreachable`` or None) and answer the one before."""
        row = await self._conn.execute(
            sa.select(providers.c.alert).where(providers.c.id == provider_id).with_for_update()
        )
        before = row.scalar_one_or_none()
        await self._conn.execute(providers.update().where(providers.c.id == provider_id).values(alert=alert))
        return None if before is None else str(before)


class NotifyRepositories:
    """The repositories of email and notifications, over the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.emails = Emails(conn)
        self.tokens = AccountTokens(conn)
        self.prefs = NotificationPrefs(conn)
        self.queue = MailQueue(conn)
        self.provider_checks = ProviderChecks(conn)
        self._conn = conn

    async def stored_settings(self, names: Sequence[str]) -> dict[str, str]:
        """The panel settings of these names that are set, in one statement."""
        rows = await self._conn.execute(sa.select(panel_settings).where(panel_settings.c.name.in_(names)))
        return {row.name: row.value for row in rows}
