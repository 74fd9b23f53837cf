"""Who is asking, and whether a form really comes from our own page (CSRF)."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from smmpanel.db.repositories import Customer
from smmpanel.usecases.accounts import customer_by_id
from smmpanel.web.context import WebContext

CSRF_FIELD = "csrf_token"
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


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise CsrfRejected
    return form


def _password_mark(customer: Customer) -> str:
    """A piece of the password hash: changing the password ends every other session."""
    return (customer.password_hash or "")[-16:]


def log_in_session(request: Request, customer: Customer) -> None:
    request.session.clear()
    request.session.update({"uid": customer.id, "pw": _password_mark(customer)})
    csrf_token(request)


async def current_user(request: Request) -> Customer | None:
    user_id: Any = request.session.get("uid")
    if not isinstance(user_id, int):
        return None
    customer = await customer_by_id(context_of(request).database, user_id)
    if customer is None or customer.disabled or request.session.get("pw") != _password_mark(customer):
        request.session.clear()
        return None
    return customer


async def require_user(request: Request) -> Customer:
    customer = await current_user(request)
    if customer is None:
        raise LoginRequired
    return customer


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
