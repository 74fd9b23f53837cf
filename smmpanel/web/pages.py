"""Rendering: one Jinja2 environment (autoescaped), the layout's context, and the error pages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from smmpanel import i18n
from smmpanel.db.repositories import Customer
from smmpanel.domain.branding import Branding
from smmpanel.i18n.vocabulary import script_texts
from smmpanel.money import format_amount
from smmpanel.usecases.paging import Page
from smmpanel.web import display_money
from smmpanel.web.plain_text import plain_text
from smmpanel.web.security import csrf_token

TEMPLATES = Path(__file__).parent / "templates"
BRANDING_SCOPE = "smmpanel.branding"
"""Where ``BrandingLoader`` leaves the request's branding (``smmpanel.web.branding_routes``)."""

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every value is escaped, whatever the file's name: user text never becomes markup
    undefined=jinja2.StrictUndefined,
    extensions=["jinja2.ext.i18n"],
)
# Every text a person reads goes through ``_()`` / ``{% trans %}``, in the language of the request being
# served (a context variable, see smmpanel.i18n): never a switch shared by concurrent requests.
_env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
_env.globals["translated"] = i18n.translated  # a text made in Python (error pages' titles, a Phrase)
_env.filters["money"] = format_amount
_env.filters["plain_text"] = plain_text  # markup from outside (a provider's error page) shown as its words


@jinja2.pass_context
def when(context: jinja2.runtime.Context, moment: datetime | None) -> Markup:
    """A stored (naive UTC) moment in the panel's customer-facing time zone, to the second, as a
    ``<time>`` (which panel.css keeps on one line, so a narrow table column never breaks a date)."""
    if moment is None:
        return Markup("")
    zone = context.get("brand", Branding()).time_zone
    exact = moment.replace(tzinfo=UTC, microsecond=0)
    local = exact.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    return Markup('<time datetime="{}">{}</time>').format(exact.isoformat().replace("+00:00", "Z"), local)


_env.filters["when"] = when
display_money.install(_env)  # {{ amount|shown }}, {{ amount|exact_and_shown }}, display_currency()
templates = Jinja2Templates(env=_env)


def render(
    request: Request, template: str, user: Customer | None, *, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """A page in the layout; ``error`` and ``notice`` show as banners above the content.

    The page speaks the request's language (``smmpanel.web.languages`` chose it); an ``error`` that is
    a rule's refusal (``Refused``'s English text) shows in that language when the catalog has it.
    """
    if "notice" not in values:
        values["notice"] = request.session.pop("notice", None) if "session" in request.scope else None
    for banner in ("error", "notice"):
        values[banner] = i18n.translated(values[banner]) if values.get(banner) else None
    values.setdefault("brand", request.scope.get(BRANDING_SCOPE) or Branding())
    context = {
        "request": request,
        "user": user,
        "csrf_token": csrf_token(request),
        "language": i18n.current_language(),
        "languages": list(i18n.LANGUAGES.values()),
        "script_texts": script_texts(),
        **values,
    }
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def redirect(url: str, notice: str | None = None, request: Request | None = None, **values: object) -> RedirectResponse:
    """Back to a page after a successful form (POST, redirect, GET), with an optional notice: in the
    request's language, its ``%(name)s`` placeholders filled from ``values``."""
    if notice and request is not None:
        request.session["notice"] = i18n.translate(notice, **values) if values else i18n.translated(notice)
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def safe_next(target: str | None) -> str:
    """Only our own paths: a login link must not send anyone to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def pager_urls(path: str, page: Page[Any], keep: dict[str, str]) -> dict[str, str | None]:
    """The links to the neighbouring pages of a keyset list, keeping the list's filters."""
    kept = {name: value for name, value in keep.items() if value}

    def url(cursor_name: str, cursor: int | None) -> str | None:
        return None if cursor is None else f"{path}?{urlencode({**kept, cursor_name: cursor})}"

    return {"newer_url": url("after", page.newer), "older_url": url("before", page.older)}


def site_of(request: Request) -> str:
    """The panel's address for links in mail when the operator has set none on the dashboard
    (``SMMPANEL_PUBLIC_URL``, else the address this request came in on)."""
    settings = request.app.state.web.settings
    return str(settings.public_url or request.base_url).rstrip("/")
