"""The API page: rotate the API key (shown once), and the API v2 documentation for this panel."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.domain.orders import SUBSCRIPTION_DELAYS
from smmpanel.usecases.accounts import rotate_key
from smmpanel.web.customer.common import show
from smmpanel.web.key_once import hold_key_once, take_key_once
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of, require_user


async def api(request: Request) -> Response:
    user = await require_user(request)
    new_key = take_key_once(request)
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


async def new_key(request: Request) -> Response:
    """A fresh key replaces the old one at once; POST, redirect, GET: the API page shows it once,
    and reloading that page neither shows it again nor makes another."""
    user = await require_user(request)
    await checked_form(request)
    issued = await rotate_key(context_of(request).database, user.username)
    hold_key_once(request, issued.api_key)
    return redirect("/api#api-key")


routes = [
    Route("/api", api, methods=["GET"]),
    Route("/api/key", new_key, methods=["POST"]),
]
