"""The customer's refill requests and where each one stands."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.errors import NotFound
from smmpanel.usecases.refills import refill_for_customer, refills_page
from smmpanel.web.customer.common import path_id, query_id, show
from smmpanel.web.pages import pager_urls
from smmpanel.web.security import PageNotFound, context_of, require_user


async def refill_list(request: Request) -> Response:
    user = await require_user(request)
    page = await refills_page(
        context_of(request).database, user.id, before=query_id(request, "before"), after=query_id(request, "after")
    )
    return show(request, "customer/refills.html", user, page=page, links=pager_urls("/refills", page, {}))


async def refill_page(request: Request) -> Response:
    user = await require_user(request)
    try:
        row = await refill_for_customer(context_of(request).database, user.id, path_id(request, "refill_id"))
    except NotFound:
        raise PageNotFound from None
    return show(request, "customer/refill.html", user, row=row)


routes = [
    Route("/refills", refill_list, methods=["GET"]),
    Route("/refills/{refill_id:int}", refill_page, methods=["GET"]),
]
