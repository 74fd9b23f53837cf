"""Subscriptions: the customer's Subscriptions-type orders, one delivery per new post of a username."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.usecases.customer_orders import subscriptions_page
from smmpanel.web.customer.common import query_id, show
from smmpanel.web.pages import pager_urls
from smmpanel.web.security import context_of, require_user


async def subscription_list(request: Request) -> Response:
    user = await require_user(request)
    page = await subscriptions_page(
        context_of(request).database, user.id, before=query_id(request, "before"), after=query_id(request, "after")
    )
    return show(request, "customer/subscriptions.html", user, page=page, links=pager_urls("/subscriptions", page, {}))


routes = [Route("/subscriptions", subscription_list, methods=["GET"])]
