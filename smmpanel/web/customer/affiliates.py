"""The customer's Affiliates page: their referral link, what it earned, and the payout button."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.db.repositories import Customer
from smmpanel.errors import Phrase, Refused
from smmpanel.money import format_amount
from smmpanel.usecases import affiliates
from smmpanel.web.customer.common import show
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of, require_user


async def _page(request: Request, user: Customer, *, status_code: int = 200, error: str | None = None) -> Response:
    view = await affiliates.affiliate_view(context_of(request).database, user.id)
    link = f"{str(request.base_url).rstrip('/')}/signup?ref={view.code}"
    values = {"view": view, "link": link}
    if error is not None:
        values["error"] = error
    return show(request, "customer/affiliates.html", user, status_code=status_code, **values)


async def affiliate_page(request: Request) -> Response:
    return await _page(request, await require_user(request))


async def payout(request: Request) -> Response:
    user = await require_user(request)
    await checked_form(request)
    try:
        paid = await affiliates.pay_out(context_of(request).database, user.id)
    except Refused as refused:
        return await _page(request, user, status_code=400, error=refused.message)
    return redirect("/affiliates", Phrase("%(paid)s moved to your balance.", paid=format_amount(paid)), request)


routes = [
    Route("/affiliates", affiliate_page, methods=["GET"]),
    Route("/affiliates/payout", payout, methods=["POST"]),
]
