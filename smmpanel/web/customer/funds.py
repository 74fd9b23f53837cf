"""Funds: the balance, the payment methods to add to it, the last payments and every movement of money."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from smmpanel.db.repositories import Customer
from smmpanel.gateways.registry import adapter_class
from smmpanel.usecases.coupons import waiting_coupon
from smmpanel.usecases.funds import customer_ledger_page
from smmpanel.usecases.gateways import list_gateways
from smmpanel.usecases.payment_desk import customer_payments_page
from smmpanel.usecases.settings import get_funds_instructions
from smmpanel.web.customer.common import query_id, show
from smmpanel.web.pages import pager_urls
from smmpanel.web.security import context_of, require_user

RECENT_PAYMENTS = 5


async def funds_page(
    request: Request,
    user: Customer,
    *,
    status_code: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page; after a refused payment, with its message and what was typed in that method's form."""
    db = context_of(request).database
    page = await customer_ledger_page(db, user.id, before=query_id(request, "before"), after=query_id(request, "after"))
    methods = [(gateway, adapter_class(gateway.kind)) for gateway in await list_gateways(db, enabled_only=True)]
    recent = await customer_payments_page(db, user.id, limit=RECENT_PAYMENTS)
    shown = {"error": error} if error else {}  # else an error flashed by the previous action
    return show(
        request,
        "customer/funds.html",
        user,
        status_code=status_code,
        **shown,
        page=page,
        methods=methods,
        recent=recent,
        values=values or {},
        instructions=await get_funds_instructions(db),
        links=pager_urls("/funds", page, {}),
        waiting_coupon=await waiting_coupon(db, user.id),
    )


async def funds(request: Request) -> Response:
    return await funds_page(request, await require_user(request))


routes = [Route("/funds", funds, methods=["GET"])]
