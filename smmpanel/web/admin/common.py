"""What every operator page shares: reading forms and ids, the audit actor, a pool for providers.

Handlers here parse and shape only: every rule and every change is a use case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse

from smmpanel import i18n
from smmpanel.db.repositories import Customer
from smmpanel.domain.orders import parse_whole
from smmpanel.errors import Phrase, Refused
from smmpanel.money import AmountError, Units, parse_amount
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases.audit import Audit
from smmpanel.usecases.providers import ImportReport
from smmpanel.web.pages import render
from smmpanel.web.security import PageNotFound, context_of

MAX_ID = 2**63 - 1
QUICK_TIMEOUT = 4.0
"""Seconds a page waits for a provider's live balance before showing the page without it."""


def form_text(form: FormData, name: str) -> str:
    """A text field; absent (or a file) counts as empty."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_amount(form: FormData, name: str, label: str, *, blank: Units | None = None) -> Units:
    """An exact amount (at most 5 decimals); ``Refused`` names the field when it is not one."""
    text = form_text(form, name).strip()
    if not text and blank is not None:
        return blank
    try:
        return parse_amount(text)
    except AmountError:
        raise Refused("%(label)s: write a number with at most 5 decimals, e.g. 12.5", label=label) from None


def form_whole(form: FormData, name: str, label: str, *, blank: int | None = None) -> int:
    if blank is not None and not form_text(form, name).strip():
        return blank
    number = parse_whole(form_text(form, name))
    if number is None:
        raise Refused("%(label)s: write a whole number", label=label)
    return number


def form_ids(form: FormData, name: str) -> list[int]:
    """Every checked id of a multiple-choice field."""
    ids = (parse_whole(value) for value in form.getlist(name) if isinstance(value, str))
    return [number for number in ids if number]


def form_values(form: FormData) -> dict[str, str]:
    """The submitted text fields, to fill a re-rendered form back in."""
    return {name: value for name, value in form.multi_items() if isinstance(value, str) and name != "csrf_token"}


def path_id(request: Request, name: str = "id") -> int:
    """An id from the address; one that cannot exist is simply not found."""
    value = request.path_params[name]
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise PageNotFound
    return value


def query_id(request: Request, name: str) -> int | None:
    number = parse_whole(request.query_params.get(name))
    return number if number and number <= MAX_ID else None


def acting(user: Customer) -> Audit:
    """The audit actor for changes made on the dashboard."""
    return Audit(user.username)


def import_notice(notice: Phrase, report: ImportReport) -> str:
    """An import's notice in the request's language, with the demo's switched-off services when any."""
    parts = [notice, report.demo_notice] if report.demo_hidden else [notice]
    return " ".join(i18n.translated(part) for part in parts)


def show(request: Request, template: str, user: Customer, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    """``render`` for operator pages, with the panel's currency at hand."""
    values.setdefault("form", {})
    values.setdefault("queue_counts", getattr(request.state, "queue_counts", None))
    return render(
        request, template, user, status_code=status_code, currency=context_of(request).settings.currency, **values
    )


@asynccontextmanager
async def provider_pool(request: Request, *, quick: bool) -> AsyncIterator[ClientPool]:
    """A pool of provider clients for this one request; ``quick`` pages wait a few seconds at most."""
    settings = context_of(request).settings
    if quick:
        settings = settings.model_copy(
            update={
                "http_timeout": min(settings.http_timeout, QUICK_TIMEOUT),
                "http_connect_timeout": min(settings.http_connect_timeout, QUICK_TIMEOUT),
            }
        )
    pool = ClientPool(settings)
    try:
        yield pool
    finally:
        await pool.aclose()
