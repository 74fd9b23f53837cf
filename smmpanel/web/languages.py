"""Which language a page speaks, and the picker that changes it.

The choice, first that applies: the logged-in person's own (``users.language``, copied into the
session at login by ``security.log_in_session``), a visitor's cookie, the browser's ``Accept-Language``,
the operator's default. The middleware sets it for the request's task only (``smmpanel.i18n.speaking``),
so concurrent requests never mix.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from smmpanel import i18n
from smmpanel.errors import Refused
from smmpanel.usecases import languages
from smmpanel.web.admin.common import form_text
from smmpanel.web.context import WebContext
from smmpanel.web.pages import redirect, safe_next
from smmpanel.web.security import checked_form, context_of, current_user

COOKIE_AGE = 365 * 24 * 3600


class LanguageChoice:
    """Speaks the request's language while the request is served (inside the session middleware)."""

    def __init__(self, app: ASGIApp, context: WebContext) -> None:
        self._app = app
        self._context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self._app(scope, receive, send)
            return
        with i18n.speaking(await self._choice(scope)):
            await self._app(scope, receive, send)

    async def _choice(self, scope: Scope) -> str:
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        cookies = SimpleCookie(headers.get("cookie", ""))
        chosen = (
            i18n.known(scope.get("session", {}).get(i18n.SESSION_KEY))
            or i18n.known(cookies[i18n.COOKIE].value if i18n.COOKIE in cookies else None)
            or i18n.negotiate(headers.get("accept-language"))
        )
        if chosen or self._context.db is None:
            return chosen or i18n.SOURCE
        return await languages.default_language(self._context.db)


async def pick_language(request: Request) -> Response:
    """The picker: kept for the logged-in person (users.language) and in a cookie for this browser."""
    form = await checked_form(request)
    code = i18n.known(form_text(form, "language")) or i18n.SOURCE
    user = await current_user(request)
    if user is not None:
        try:
            code = await languages.choose_language(context_of(request).database, user.id, code)
        except Refused:
            code = i18n.SOURCE
        request.session[i18n.SESSION_KEY] = code
    response = redirect(_back(request))
    response.set_cookie(i18n.COOKIE, code, max_age=COOKIE_AGE, samesite="lax", httponly=True)
    return response


def _back(request: Request) -> str:
    """The page the picker was on (``Referrer-Policy: same-origin`` sends it), else the home page."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc:
        return "/"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


routes = [Route("/language", pick_language, methods=["POST"])]
