"""Messages from the project's templates (``smmpanel/notify/templates``): a subject, plain text, HTML.

Each event has ``<event>.txt`` with a ``subject`` and a ``body`` block, and may have ``<event>.html``
(the same body as markup, every value escaped). Rendering happens when a message is queued, so the
queue holds exactly what will be sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from smmpanel import i18n
from smmpanel.money import format_amount
from smmpanel.notify import Message

TEMPLATES = Path(__file__).parent / "templates"


def _environment(*, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = format_amount
    return env


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


def _block(template: jinja2.Template, name: str, values: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(values))).strip()


def render_message(event: str, recipient: str, values: dict[str, Any], language: str | None = None) -> Message:
    """The message in ``language`` (a code of ``smmpanel.i18n.LANGUAGES``; English when None)."""
    with i18n.speaking(language) as speaking:
        text = _TEXT.get_template(f"{event}.txt")
        page = {**values, "language": speaking}
        try:
            html: str | None = _HTML.get_template(f"{event}.html").render(page)
        except jinja2.TemplateNotFound:
            html = None
        return Message(recipient, _block(text, "subject", values), _block(text, "body", values) + "\n", html)
