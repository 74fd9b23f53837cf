"""The Updates page: new services, rate changes and services disabled, as the provider syncs recorded them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.usecases import catalog_sync
from smmpanel.web.customer.common import show
from smmpanel.web.security import PageNotFound, context_of, require_user


async def updates(request: Request) -> Response:
    """Shown only when the operator switched it on (``updates_page`` setting); a 404 otherwise."""
    user = await require_user(request)
    listed = await catalog_sync.public_updates(context_of(request).database)
    if listed is None:
        raise PageNotFound
    return show(request, "customer/updates.html", user, updates=listed)


routes = [Route("/updates", updates, methods=["GET"])]
