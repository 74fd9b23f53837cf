"""Amounts shown in the reader's display currency: the Jinja filters and globals, and the picker's route.

Templates write ``{{ amount|shown }}`` (the chosen currency: ``≈ €11.52``, or ``12.5 USD`` exactly
when it is the panel's own) and ``{{ amount|exact_and_shown }}`` (``12.5 USD (≈ €11.52)``, for a
charge). ``display_currency()`` is the chosen ``DisplayCurrency``, ``panel_currency()`` the panel's
own and ``currency_choices()`` every one offered. The choice is the request's own: a logged-in
customer's is kept on their account, a visitor's in a cookie; the list comes from the process's
cache, read once per request by ``CurrencyMenus`` (a middleware), because Jinja filters cannot wait
for the database.
"""

from __future__ import annotations

import logging
from typing import Any

import jinja2
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from smmpanel.domain.currencies import DisplayCurrency, converted_text
from smmpanel.money import Units, format_amount
from smmpanel.usecases import currencies
from smmpanel.usecases.currencies import CurrencyMenu
from smmpanel.web.context import WebContext
from smmpanel.web.security import context_of

COOKIE = "smmpanel_currency"
log = logging.getLogger("smmpanel.web")
_MENU = "currency_menu"


class CurrencyMenus:
    """Puts the offered currencies (cached) on every dashboard request, for the filters to read."""

    def __init__(self, app: ASGIApp, context: WebContext) -> None:
        self._app = app
        self._context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._context.db is not None and not scope["path"].startswith("/static/"):
            try:
                menu = await currencies.currency_menu(self._context.db, self._context.settings.currency)
            except (SQLAlchemyError, OSError):  # the page itself decides what a database outage means
                log.warning("display currencies unavailable; amounts shown in the panel's currency")
            else:
                scope.setdefault("state", {})[_MENU] = menu
        await self._app(scope, receive, send)


def menu_of(request: Request) -> CurrencyMenu:
    """The request's menu; only the panel's own currency where the middleware did not run."""
    menu = request.scope.get("state", {}).get(_MENU)
    if isinstance(menu, CurrencyMenu):
        return menu
    return CurrencyMenu(currencies.panel_currency(context_of(request).settings.currency), ())


def chosen_for(request: Request, user: Any) -> DisplayCurrency:
    """The account's choice for a logged-in user, the cookie's for a visitor, else the default."""
    code = getattr(user, "display_currency", None) if user is not None else request.cookies.get(COOKIE)
    return menu_of(request).pick(code)


def _chosen(context: Any) -> DisplayCurrency:
    return chosen_for(context["request"], context.get("user"))


def exact_text(units: Units, currency: DisplayCurrency) -> str:
    """An amount in the panel's currency, exactly as the ledger keeps it: ``12.5 USD``."""
    return f"{format_amount(units)} {currency.code}"


@jinja2.pass_context
def shown(context: Any, units: Units) -> str:
    currency = _chosen(context)
    return exact_text(units, currency) if currency.is_panel else converted_text(units, currency)


@jinja2.pass_context
def exact_and_shown(context: Any, units: Units) -> str:
    currency = _chosen(context)
    exact = exact_text(units, menu_of(context["request"]).panel)
    return exact if currency.is_panel else f"{exact} ({converted_text(units, currency)})"


@jinja2.pass_context
def display_currency(context: Any) -> DisplayCurrency:
    return _chosen(context)


@jinja2.pass_context
def panel_currency(context: Any) -> DisplayCurrency:
    return menu_of(context["request"]).panel


@jinja2.pass_context
def currency_choices(context: Any) -> tuple[DisplayCurrency, ...]:
    return menu_of(context["request"]).choices


def install(env: jinja2.Environment) -> None:
    """Give every template the filters and globals above."""
    env.filters["shown"] = shown
    env.filters["exact_and_shown"] = exact_and_shown
    env.globals["display_currency"] = display_currency
    env.globals["currency_choices"] = currency_choices
    env.globals["panel_currency"] = panel_currency
