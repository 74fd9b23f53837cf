"""Who reads which language: a person's own choice, and the operator's default for everyone else."""

from __future__ import annotations

from smmpanel import i18n
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import Refused
from smmpanel.usecases.audit import Audit, audited


def _checked(code: str) -> str:
    known = i18n.known(code)
    if known is None or known != code.strip().lower():
        raise Refused("This language is not available")
    return known


async def default_language(db: Database) -> str:
    """The operator's choice (``default_language`` in panel settings), else English."""
    async with db.read() as repos:
        return i18n.known(await repos.settings.get(i18n.DEFAULT_LANGUAGE_SETTING)) or i18n.SOURCE


async def set_default_language(db: Database, code: str, *, audit: Audit | None) -> str:
    """For visitors and customers who chose none and whose browser asks for none the panel speaks."""
    code = _checked(code)
    async with db.write() as repos:
        before = await repos.settings.get(i18n.DEFAULT_LANGUAGE_SETTING)
        await repos.settings.put(i18n.DEFAULT_LANGUAGE_SETTING, code)
        if before != code:
            target = f"setting {i18n.DEFAULT_LANGUAGE_SETTING}"
            await audited(repos, audit, "setting.update", target, {"value": before}, {"value": code})
    return code


async def language_of(db: Database, user_id: int) -> str | None:
    async with db.read() as repos:
        return i18n.known(await repos.languages.of(user_id))


async def choose_language(db: Database, user_id: int, code: str) -> str:
    """The person's pages and mail speak ``code`` from now on, on any browser."""
    code = _checked(code)
    async with db.write() as repos:
        await repos.languages.set(user_id, code)
    return code
