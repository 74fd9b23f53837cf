"""Funds: the balance, how to add to it (the operator's words), and every movement of money."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.db.repositories import Customer
from smmpanel.usecases.coupons import waiting_coupon
from smmpanel.usecases.funds import ledger_page
from smmpanel.usecases.settings import get_funds_instructions
from smmpanel.web.customer.common import query_id, show
from smmpanel.web.pages import pager_urls
from smmpanel.web.security import context_of, require_user


async def funds(request: Request) -> Response:
    return await funds_page(request, await require_user(request))


async def funds_page(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    """The Funds page; a refused form shows here again with its ``error`` and what was typed."""
    db = context_of(request).database
    page = await ledger_page(db, user.id, before=query_id(request, "before"), after=query_id(request, "after"))
    return show(
        request,
        "customer/funds.html",
        user,
        status_code=status_code,
        page=page,
        instructions=await get_funds_instructions(db),
        links=pager_urls("/funds", page, {}),
        waiting_coupon=await waiting_coupon(db, user.id),
        **{"coupon_code": "", **values},
    )


routes = [Route("/funds", funds, methods=["GET"])]
