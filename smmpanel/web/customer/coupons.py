"""The coupon field of the Funds page: a customer redeems a code there."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.domain.coupons import CouponKind
from smmpanel.errors import Phrase, Refused
from smmpanel.money import format_amount
from smmpanel.usecases import coupons
from smmpanel.web.auth_routes import form_text
from smmpanel.web.customer.funds import funds_page
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of, require_user


async def redeem(request: Request) -> Response:
    user = await require_user(request)
    form = await checked_form(request)
    code = form_text(form, "coupon")
    try:
        done = await coupons.redeem_coupon(context_of(request).database, user.id, code)
    except Refused as refused:
        return await funds_page(request, user, status_code=400, error=refused.message, values={"coupon": code})
    if done.kind is CouponKind.PERCENT:
        notice = Phrase(
            "Coupon %(done_code)s accepted: %(percent)s %% of your next deposit will be added.",
            done_code=done.code,
            percent=format_amount(done.percent),
        )
    else:
        notice = Phrase(
            "Coupon %(done_code)s: %(credited)s added to your balance.",
            done_code=done.code,
            credited=format_amount(done.credited),
        )
    return redirect("/funds", notice, request)


routes = [Route("/funds/coupon", redeem, methods=["POST"])]
