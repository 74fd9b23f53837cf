"""Coupons: the operator makes codes, sees their uses and redemptions, and disables them."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.domain.coupons import CouponKind
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.usecases import coupons
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_amount, form_text, form_values, form_whole, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of


async def _page(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    db = context_of(request).database
    return show(
        request,
        "admin/coupons.html",
        user,
        status_code=status_code,
        coupons=await coupons.list_coupons(db),
        redemptions=await coupons.recent_redemptions(db),
        **values,
    )


async def coupon_list(request: Request) -> Response:
    return await _page(request, staff_user(request))


def _expiry(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Refused("Expires: write a date as YYYY-MM-DD") from None


def _kind(text: str) -> CouponKind:
    try:
        return CouponKind(text)
    except ValueError:
        raise Refused("Choose a fixed amount or a percent") from None


async def add_coupon(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    try:
        coupon = await coupons.create_coupon(
            context_of(request).database,
            form_text(form, "code"),
            _kind(form_text(form, "kind")),
            form_amount(form, "value", "Amount or percent"),
            max_uses=form_whole(form, "max_uses", "Usage limit", blank=0) or None,
            expires_on=_expiry(form_text(form, "expires")),
            audit=acting(user),
        )
    except Refused as refused:
        return await _page(request, user, status_code=400, error=refused.message, form=form_values(form))
    return redirect("/admin/coupons", Phrase("Coupon %(coupon_code)s added.", coupon_code=coupon.code), request)


async def disable_coupon(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    code = form_text(form, "code")
    try:
        await coupons.disable_coupon(context_of(request).database, code, audit=acting(user))
    except NotFound as missing:
        return await _page(request, user, status_code=404, error=str(missing))
    return redirect("/admin/coupons", Phrase("Coupon %(code)s disabled.", code=code.strip().upper()), request)


routes = [
    AdminRoute("/admin/coupons", coupon_list, Permission.PAYMENTS, methods=["GET"]),
    AdminRoute("/admin/coupons", add_coupon, Permission.PAYMENTS, methods=["POST"]),
    AdminRoute("/admin/coupons/disable", disable_coupon, Permission.PAYMENTS, methods=["POST"]),
]
