"""The currency picker's one route (the form is ``templates/_currency_picker.html``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smmpanel.errors import Refused
from smmpanel.usecases import currencies
from smmpanel.web.display_money import COOKIE, menu_of
from smmpanel.web.pages import redirect, safe_next
from smmpanel.web.security import checked_form, context_of, current_user

COOKIE_SECONDS = 365 * 24 * 3600


async def choose(request: Request) -> Response:
    """The picker: a visitor's choice goes into a cookie (GET, nothing to forge), a customer's onto
    their account (POST with the form's token) and into the cookie, for after they log out."""
    if request.method == "GET":
        values: Any = request.query_params
    else:
        values = await checked_form(request)
    code = values.get("currency")
    target = safe_next(values.get("next") if isinstance(values.get("next"), str) else None)
    menu = menu_of(request)
    if not isinstance(code, str) or code not in {currency.code for currency in menu.choices}:
        return redirect(target)
    user = await current_user(request) if request.method == "POST" else None
    if user is not None:
        try:
            await currencies.choose_currency(context_of(request).database, user.id, code, menu)
        except Refused:  # withdrawn between the page and the click: nothing to keep
            return redirect(target)
    response = RedirectResponse(target, status_code=303)
    secure = context_of(request).settings.secure_cookies
    response.set_cookie(COOKIE, code, max_age=COOKIE_SECONDS, httponly=True, samesite="lax", secure=secure)
    return response


routes = [Route("/currency", choose, methods=["GET", "POST"])]
