"""The ASGI application: API v2 and the small pages around it, on one database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from smmpanel.api import adminapi, openapi, operations, payment_webhooks, v2
from smmpanel.api.adminapi.gate import AdminLimiter
from smmpanel.api.body_limit import BodyLimit
from smmpanel.api.limits import RateLimiter
from smmpanel.api.observability import UNHANDLED_STATUS, Observability
from smmpanel.api.styles import STYLES
from smmpanel.config import Settings
from smmpanel.db.unit_of_work import Database
from smmpanel.engine.worker import Engine
from smmpanel.logging_setup import configure_logging
from smmpanel.providers.simulator import SimulatorSettings, create_simulator_app
from smmpanel.simulators.gateways import GatewaySimulatorSettings, create_gateway_simulator_app
from smmpanel.usecases.accounts import session_secret
from smmpanel.web.app import create_web_app
from smmpanel.web.context import WebContext
from smmpanel.web.headers import SecurityHeaders
from smmpanel.web.routes import dashboard_routes

log = logging.getLogger("smmpanel")

TEMPORARY_FAILURE = v2.json_response({"error": "Temporary failure, please retry"}, status_code=UNHANDLED_STATUS)
"""The answer to a request that failed unexpectedly: JSON, no trace, and a request to retry."""


async def _client_gone(request: Request, exc: Exception) -> Response:
    return v2.client_gone(request)


class Panel(Starlette):
    """Starlette, with API v2 (``POST``/``GET /api/v2``) served by a short stack of its own: the same
    middleware as every other route, around the endpoint itself, without the router and Starlette's
    exception layers, which cost a polling call as much as its own work (issue #16 item 8)."""

    def __init__(self, *, middleware: list[Middleware], **options: Any) -> None:
        super().__init__(middleware=middleware, **options)
        api: ASGIApp = v2.asgi_endpoint
        for cls, args, kwargs in reversed(middleware):
            api = cls(api, *args, **kwargs)
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in v2.PATHS and scope["method"] in v2.METHODS:
            scope["app"] = self
            await self.api(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


@asynccontextmanager
async def _engine_running(db: Database, settings: Settings) -> AsyncIterator[None]:
    """The order engine as a task of the serving process (the embedded default)."""
    engine = Engine(db, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run_until(stop))
    try:
        yield
    finally:
        stop.set()
        await task
        await engine.aclose()


def create_app(
    settings: Settings,
    *,
    simulator: SimulatorSettings | None = None,
    gateway_simulator: GatewaySimulatorSettings | None = None,
) -> Starlette:
    """The panel; with ``simulator``, a provider simulator is served under ``/simulator`` (the demo),
    and with ``gateway_simulator`` the payment-gateway simulator under ``/simulator/gateways``."""

    web = WebContext(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.style = STYLES[settings.api_style]
        app.state.db = Database(
            settings.database_url, pool_size=settings.db_pool_size, cache_seconds=settings.cache_seconds
        )
        web.db = app.state.db
        web.session_secret = settings.secret_key or await session_secret(app.state.db)
        app.state.limits = RateLimiter(settings)
        app.state.admin_limits = AdminLimiter(settings)
        app.state.panel_metrics = operations.PanelCollector(app.state.db)
        try:
            async with AsyncExitStack() as stack:
                if settings.run_engine:
                    await stack.enter_async_context(_engine_running(app.state.db, settings))
                yield
        finally:
            await app.state.limits.aclose()
            await app.state.admin_limits.aclose()
            await app.state.db.close()

    routes: list[BaseRoute] = [
        Route("/api/v2", v2.endpoint, methods=["GET", "POST"]),
        Route("/api/v2/", v2.endpoint, methods=["GET", "POST"]),
        *operations.routes,
        *adminapi.routes,
        *openapi.routes,
        *payment_webhooks.routes,
    ]
    if gateway_simulator is not None:  # before the provider's mount, which would take the path
        routes.append(Mount("/simulator/gateways", app=create_gateway_simulator_app(gateway_simulator)))
    if simulator is not None:
        routes.append(Mount("/simulator", app=create_simulator_app(simulator)))
    routes.append(Mount("", app=create_web_app(web, dashboard_routes())))
    return Panel(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(Observability, fallback=TEMPORARY_FAILURE),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers={ClientDisconnect: _client_gone},
    )


def app_from_environment() -> Starlette:
    """The factory each ``serve --workers N`` process calls: settings come from the environment."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)
