"""Funds: the balance, how to add to it (the operator's words), and every movement of money."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.usecases.funds import ledger_page
from smmpanel.usecases.settings import get_funds_instructions
from smmpanel.web.customer.common import query_id, show
from smmpanel.web.pages import pager_urls
from smmpanel.web.security import context_of, require_user


async def funds(request: Request) -> Response:
    user = await require_user(request)
    db = context_of(request).database
    page = await ledger_page(db, user.id, before=query_id(request, "before"), after=query_id(request, "after"))
    return show(
        request,
        "customer/funds.html",
        user,
        page=page,
        instructions=await get_funds_instructions(db),
        links=pager_urls("/funds", page, {}),
    )


routes = [Route("/funds", funds, methods=["GET"])]
