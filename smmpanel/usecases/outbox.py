"""The outgoing message queue, as the engine's mail pass works through it.

A message is claimed (``sending``, with a lease) in one short transaction, delivered outside
any transaction, then settled in another: ``sent``, or ``queued`` again after a growing pause,
or ``failed`` after the last attempt. A worker that dies mid-attempt leaves a lease that runs
out; the message is then claimed again, so nothing queued is ever lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smmpanel.clock import utcnow
from smmpanel.config import Settings
from smmpanel.db.notify_repositories import FAILED, QUEUED, SENT, Outgoing
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases.notify_settings import NotifySettings, settings_in

MAX_PAUSE = 3600.0
"""The longest wait between two attempts, in seconds."""


@dataclass(frozen=True)
class Claimed:
    messages: list[Outgoing]
    settings: NotifySettings | None
    """The SMTP and Telegram settings as they stood when the messages were claimed (None: no messages)."""
    lease_until: datetime


def _lease(env: Settings) -> timedelta:
    """Longer than any attempt can take: an SMTP exchange has a timeout per step, a few steps."""
    return timedelta(seconds=max(env.smtp_timeout, env.http_timeout) * 4 + 30)


async def claim_due(db: Database, env: Settings) -> Claimed:
    now = utcnow()
    lease_until = now + _lease(env)
    async with db.write() as repos:
        messages = await repos.notify.queue.claim(now, lease_until, env.mail_batch)
        settings = await settings_in(repos, env) if messages else None
    return Claimed(messages, settings, lease_until)


async def delivered(db: Database, message: Outgoing, lease_until: datetime) -> None:
    now = utcnow()
    async with db.write() as repos:
        await repos.notify.queue.settle(
            message.id, lease_until, {"status": SENT, "sent_at": now, "lease_until": None, "last_error": None}
        )


def retry_pause(env: Settings, attempts: int) -> float:
    """Seconds before the next attempt: the backoff, doubled after each failed attempt, at most an hour."""
    return float(min(MAX_PAUSE, env.mail_retry_backoff * 2 ** max(0, attempts - 1)))


async def delivery_failed(db: Database, env: Settings, message: Outgoing, lease_until: datetime, error: str) -> None:
    now = utcnow()
    values: dict[str, object] = {"lease_until": None, "last_error": error[:1000]}
    if message.attempts >= env.mail_max_attempts:
        values["status"] = FAILED
    else:
        values.update(status=QUEUED, next_attempt_at=now + timedelta(seconds=retry_pause(env, message.attempts)))
    async with db.write() as repos:
        await repos.notify.queue.settle(message.id, lease_until, values)


async def queue_listing(db: Database, statuses: tuple[str, ...], limit: int = 100) -> list[dict[str, Any]]:
    """Messages waiting or given up, newest first, for the operator's settings page."""
    async with db.read() as repos:
        return await repos.notify.queue.listing(statuses, limit)
