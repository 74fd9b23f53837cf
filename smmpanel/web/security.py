"""Who is asking, and whether a form really comes from our own page (CSRF)."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from smmpanel import i18n
from smmpanel.db.repositories import Customer
from smmpanel.usecases import languages, sessions
from smmpanel.web.context import WebContext

CSRF_FIELD = "csrf_token"
SESSION_ID = "sid"
"""The cookie's key for the server-side session id (``smmpanel.usecases.sessions``)."""
MAX_FORM_FIELDS = 2000


class CsrfRejected(Exception):
    """A form arrived without the token of the session that showed it."""


class LoginRequired(Exception):
    """The page needs someone logged in."""


class PageNotFound(Exception):
    """Nothing to show at this address for this user: answered like an address that does not exist."""


def context_of(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def checked_form(request: Request, *, max_files: int = 0) -> FormData:
    """The posted form, once its CSRF token matches the session's (files only where a page asks)."""
    form = await request.form(max_files=max_files, max_fields=MAX_FORM_FIELDS)
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise CsrfRejected
    return form


def session_id(request: Request) -> str | None:
    """The server-side session this request's cookie names, if any."""
    value: Any = request.session.get(SESSION_ID)
    return value if isinstance(value, str) else None


async def log_in_session(request: Request, customer: Customer) -> None:
    """A fresh server-side session for ``customer``; the one the browser had, if any, ends."""
    await log_out_session(request)
    request.session[SESSION_ID] = await sessions.start_session(context_of(request).database, customer.id)
    language = await languages.language_of(context_of(request).database, customer.id)
    if language:  # their own choice follows them to this browser
        request.session[i18n.SESSION_KEY] = language
    csrf_token(request)


async def log_out_session(request: Request) -> None:
    """End this browser's session on the server, so that a copy of the cookie opens nothing."""
    previous = session_id(request)
    if previous is not None:
        await sessions.end_session(context_of(request).database, previous)
    request.session.clear()


async def current_user(request: Request) -> Customer | None:
    current = session_id(request)
    if current is None:
        return None
    customer = await sessions.session_user(context_of(request).database, current)
    if customer is None:
        request.session.clear()
    return customer


async def require_user(request: Request) -> Customer:
    customer = await current_user(request)
    if customer is None:
        raise LoginRequired
    return customer


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
