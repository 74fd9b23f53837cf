"""The API page: rotate the API key (shown once), and the API v2 documentation for this panel."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.db.repositories import Customer
from smmpanel.domain.orders import SUBSCRIPTION_DELAYS
from smmpanel.usecases.accounts import rotate_key
from smmpanel.web.customer.common import show
from smmpanel.web.security import checked_form, context_of, require_user


def _page(request: Request, user: Customer, new_key: str | None = None) -> Response:
    api_url = str(request.base_url).rstrip("/") + "/api/v2"
    response = show(
        request,
        "customer/api.html",
        user,
        api_url=api_url,
        new_key=new_key,
        style=context_of(request).settings.api_style,
        delays=", ".join(str(delay) for delay in sorted(SUBSCRIPTION_DELAYS)),
    )
    if new_key is not None:
        response.headers["Cache-Control"] = "no-store"  # the key is shown once: no copy in any cache
    return response


async def api(request: Request) -> Response:
    user = await require_user(request)
    return _page(request, user)


async def new_key(request: Request) -> Response:
    """A fresh key replaces the old one at once; it is shown in this answer and never again."""
    user = await require_user(request)
    await checked_form(request)
    issued = await rotate_key(context_of(request).database, user.username)
    return _page(request, user, issued.api_key)


routes = [
    Route("/api", api, methods=["GET"]),
    Route("/api/key", new_key, methods=["POST"]),
]
