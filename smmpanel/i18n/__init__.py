"""The panel's languages: gettext catalogs read from Babel ``.po`` files, and the one this request speaks.

The catalogs live in ``smmpanel/locale/<code>/LC_MESSAGES/messages.po`` and are compiled in memory on
first use (no ``.mo`` files to commit or to forget to rebuild). The language is a context variable: each
request (each asyncio task) sets its own, so two customers served at the same moment never see each
other's language; nothing here is a process-wide switch.

API v2 answers, the admin API and the CLI never call into this module: their texts are byte-exact English.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from smmpanel.errors import Phrase

LOCALE_DIR = Path(__file__).parent.parent / "locale"
DEFAULT_LANGUAGE_SETTING = "default_language"  # panel_settings: the operator's choice for everyone else
COOKIE = "lang"  # a visitor's choice (a logged-in person's is also kept in users.language)
SESSION_KEY = "lang"  # a logged-in person's users.language, copied into their session at login


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    name: str  # in the language itself, as the picker shows it
    rtl: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


SOURCE = "en"  # the texts in the code are English: msgid == English
LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language("en", "English"),
        Language("ru", "Русский"),
        Language("tr", "Türkçe"),
        Language("ar", "العربية", rtl=True),
    )
}

_current: ContextVar[str] = ContextVar("smmpanel_language", default=SOURCE)


def known(code: str | None) -> str | None:
    """``code`` when the panel speaks it (``ru``, ``ru-RU`` → ``ru``), else None."""
    if not code:
        return None
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def negotiate(accept_language: str | None) -> str | None:
    """The best language of an ``Accept-Language`` header that the panel speaks, else None."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        code = known(tag)
        if code and quality > 0:
            choices.append((-quality, position, code))
    return min(choices)[2] if choices else None


@cache
def translations(code: str) -> stdlib_gettext.NullTranslations:
    """The compiled catalog of ``code`` (English: the texts as written). Fuzzy entries are left out."""
    if code == SOURCE or code not in LANGUAGES:
        return stdlib_gettext.NullTranslations()
    with (LOCALE_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=code)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def load_catalogs() -> None:
    """Read every catalog now (at start-up), so a broken ``.po`` file stops the panel, not a page."""
    for code in LANGUAGES:
        translations(code)


def current_language() -> Language:
    return LANGUAGES[_current.get()]


@contextmanager
def speaking(code: str | None) -> Iterator[Language]:
    """Speak ``code`` (a known code, else English) inside the block, in this task only."""
    token = _current.set(known(code) or SOURCE)
    try:
        yield current_language()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, count)


def translate(message: str, **values: object) -> str:
    """``message`` in this request's language, its ``%(name)s`` placeholders filled from ``values``."""
    text = gettext(message)
    return text % values if values else text


def translated(text: str) -> str:
    """A text made elsewhere (a ``Refused``'s ``Phrase``, a notice) in this request's language: the
    template translated and its values filled in again; English when the catalogs lack it."""
    if isinstance(text, Phrase):
        return translate(text.template, **text.values)
    return gettext(text)


def N_(message: str) -> str:
    """Marks ``message`` for extraction where it is defined; it is translated where it is shown."""
    return message
