"""Panel-wide texts the operator writes and customers read (e.g. how to add funds)."""

from __future__ import annotations

from smmpanel.db.unit_of_work import Database
from smmpanel.errors import Refused

FUNDS_INSTRUCTIONS = "funds_instructions"
MAX_TEXT = 20_000


async def get_setting(db: Database, name: str) -> str | None:
    async with db.read() as repos:
        return await repos.settings.get(name)


async def set_setting(db: Database, name: str, value: str) -> None:
    async with db.write() as repos:
        await repos.settings.put(name, value)


async def get_funds_instructions(db: Database) -> str:
    """How customers pay the operator; empty until the operator writes it."""
    return await get_setting(db, FUNDS_INSTRUCTIONS) or ""


async def set_funds_instructions(db: Database, text: str) -> None:
    """Shown as plain text on every customer's Funds page (never as markup)."""
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_TEXT:
        raise Refused("The instructions are too long (at most %(max_text)s characters)", max_text=MAX_TEXT)
    await set_setting(db, FUNDS_INSTRUCTIONS, text)
