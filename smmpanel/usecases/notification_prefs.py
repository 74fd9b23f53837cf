"""A customer's own notification switches, low-balance threshold and Telegram chat."""

from __future__ import annotations

import re

from smmpanel.db.notify_repositories import Prefs
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.notifications import CUSTOMER_EVENTS
from smmpanel.errors import Refused
from smmpanel.money import Units

_CHAT_ID = re.compile(r"^-?\d{1,20}$|^@[A-Za-z0-9_]{5,32}$")


async def prefs_of(db: Database, user_id: int) -> Prefs:
    async with db.read() as repos:
        return await repos.notify.prefs.of(user_id)


async def save_prefs(
    db: Database, user_id: int, *, on: set[str], low_balance_below: Units | None, telegram_chat_id: str
) -> None:
    """Everything not in ``on`` is off; a new threshold is armed again (told once when crossed)."""
    if low_balance_below is not None and low_balance_below <= 0:
        raise Refused("The low balance threshold must be more than zero (or left empty)")
    chat = telegram_chat_id.strip()
    if chat and not _CHAT_ID.match(chat):
        raise Refused("A Telegram chat id is a number (or @channelname)")
    prefs = Prefs(frozenset(set(CUSTOMER_EVENTS) - on), low_balance_below, chat or None)
    async with db.write() as repos:
        await repos.notify.prefs.put(user_id, prefs)
