"""The mail pass: deliver queued messages (email and Telegram), a few at once, retrying later on failure.

A message is claimed before its attempt (``usecases.outbox``), so however many workers run this
pass, one attempt at most is in flight for each message. Requests never wait for it: they only
queue messages.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from smmpanel.config import Settings
from smmpanel.db.notify_repositories import Outgoing
from smmpanel.db.unit_of_work import Database
from smmpanel.notify import EMAIL, TELEGRAM, Channel, DeliveryFailed, Message
from smmpanel.notify.mail import SmtpChannel
from smmpanel.notify.telegram import TelegramChannel
from smmpanel.usecases import outbox

log = logging.getLogger("smmpanel.engine")

AT_ONCE = 4
"""Deliveries in flight at once from one pass."""


async def send_messages_due(db: Database, settings: Settings, http: httpx.AsyncClient) -> int:
    """One round of deliveries; how many messages were attempted."""
    claimed = await outbox.claim_due(db, settings)
    if claimed.settings is None:
        return 0
    channels: dict[str, Channel] = {
        EMAIL: SmtpChannel(claimed.settings.smtp),
        TELEGRAM: TelegramChannel(settings.telegram_api_url, claimed.settings.telegram_token, http),
    }
    gate = asyncio.Semaphore(AT_ONCE)

    async def deliver(message: Outgoing) -> None:
        async with gate:
            try:
                channel = channels.get(message.channel)
                if channel is None:
                    raise DeliveryFailed(f"unknown channel {message.channel!r}")
                await channel.send(Message(message.recipient, message.subject, message.body_text, message.body_html))
            except DeliveryFailed as error:
                log.warning("message %d (%s) not delivered, attempt %d: %s", message.id, message.event,
                            message.attempts, error)  # fmt: skip
                await outbox.delivery_failed(db, settings, message, claimed.lease_until, str(error))
                return
            await outbox.delivered(db, message, claimed.lease_until)

    await asyncio.gather(*(deliver(message) for message in claimed.messages))
    return len(claimed.messages)
