"""The dashboard as one Starlette app, mounted beside API v2 on the same server."""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from smmpanel import i18n
from smmpanel.api.body_limit import BodyTooLarge, too_large_handler
from smmpanel.i18n import N_
from smmpanel.web import (
    auth_routes,
    branding_routes,
    currency_picker,
    email_routes,
    impersonation,
    languages,
    session_routes,
    two_factor_routes,
)
from smmpanel.web.admin.access import TwoFactorEnrolmentRequired
from smmpanel.web.context import WebContext
from smmpanel.web.display_money import CurrencyMenus
from smmpanel.web.pages import login_redirect, render
from smmpanel.web.public import services as public_services
from smmpanel.web.security import CsrfRejected, LoginRequired, PageNotFound, current_user
from smmpanel.web.sessions import PanelSessions

log = logging.getLogger("smmpanel.web")
STATIC = Path(__file__).parent / "static"


async def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    message = N_("This form has expired or did not come from this panel. Reload the page and try again.")
    return render(request, "error.html", None, status_code=403, title=N_("Form refused"), message=message)


async def _login_required(request: Request, _exc: Exception) -> Response:
    return login_redirect(request)


async def _enrol_first(_request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/account/two-factor", status_code=303)


async def _not_found(request: Request, _exc: Exception) -> Response:
    message = N_("There is nothing here.")
    user = await current_user(request)
    return render(request, "error.html", user, status_code=404, title=N_("Not found"), message=message)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    message = N_("Something went wrong on our side. Nothing was changed; please try again.")
    return render(request, "error.html", None, status_code=503, title=N_("Temporary failure"), message=message)


def create_web_app(context: WebContext, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    routes: list[BaseRoute] = [
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        *branding_routes.routes,
        *auth_routes.routes,
        *session_routes.routes,
        *two_factor_routes.routes,
        *impersonation.routes,
        *email_routes.routes,
        *currency_picker.routes,
        *public_services.routes,
        *languages.routes,
        *(extra_routes or []),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(branding_routes.BrandingLoader, context=context),
            Middleware(PanelSessions, context=context),
            Middleware(impersonation.ReadOnlyGuard),
            Middleware(languages.LanguageChoice, context=context),
            Middleware(CurrencyMenus, context=context),
        ],
        exception_handlers={
            BodyTooLarge: too_large_handler,
            CsrfRejected: _csrf_rejected,
            LoginRequired: _login_required,
            PageNotFound: _not_found,
            TwoFactorEnrolmentRequired: _enrol_first,
            404: _not_found,
            Exception: _unexpected,
        },
    )
    app.state.web = context
    i18n.load_catalogs()
    return app
