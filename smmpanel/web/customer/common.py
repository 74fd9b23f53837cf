"""What every customer page shares: reading ids and cursors, flashing errors, formatting times."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from smmpanel.db.repositories import Customer
from smmpanel.domain.orders import parse_whole
from smmpanel.i18n import translated
from smmpanel.web.pages import redirect, render
from smmpanel.web.security import PageNotFound, context_of

MAX_ID = 2**63 - 1  # the largest id either database stores; beyond it, nothing can exist
FLASH_ERROR = "flash_error"


def path_id(request: Request, name: str) -> int:
    """An id from the address (``{name:int}``); one that cannot exist is simply not found."""
    value = request.path_params[name]
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise PageNotFound
    return value


def query_id(request: Request, name: str) -> int | None:
    """A positive id from the query string; anything else counts as absent."""
    number = parse_whole(request.query_params.get(name))
    return number if number else None


def currency(request: Request) -> str:
    return context_of(request).settings.currency


def redirect_error(url: str, error: str, request: Request) -> RedirectResponse:
    """Back to a page after a refused action, with the refusal shown as an error banner there."""
    request.session[FLASH_ERROR] = translated(error)  # in the session's language: a Phrase is not kept
    return redirect(url)


def show(request: Request, template: str, user: Customer, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    """``render`` for customer pages: an error flashed by the previous action shows here."""
    values.setdefault("error", request.session.pop(FLASH_ERROR, None))
    return render(request, template, user, status_code=status_code, currency=currency(request), **values)


def duration(span: timedelta | None) -> str:
    """``3 days 4 h``, ``2 h 15 min``, ``12 min``: as precise as a customer needs it."""
    if span is None:
        return ""
    minutes = max(1, round(span.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days > 1 else ''} {hours} h" if hours else f"{days} day{'s' if days > 1 else ''}"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
