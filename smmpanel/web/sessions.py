"""Signed, HttpOnly, SameSite cookie sessions whose secret is known only once the panel starts."""

from __future__ import annotations

from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from smmpanel.web.context import WebContext

COOKIE = "smmpanel_session"
MAX_AGE = 14 * 24 * 3600


class PanelSessions:
    """Starlette's session middleware, built on the first request with the panel's secret."""

    def __init__(self, app: ASGIApp, context: WebContext) -> None:
        self._app = app
        self._context = context
        self._inner: SessionMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        if self._inner is None:
            self._inner = SessionMiddleware(
                self._app,
                secret_key=self._context.session_secret,
                session_cookie=COOKIE,
                max_age=MAX_AGE,
                same_site="lax",
                https_only=self._context.settings.secure_cookies,
            )
        await self._inner(scope, receive, send)
