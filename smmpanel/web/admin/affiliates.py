"""The affiliate program, for the operator: its terms, who referred whom, commissions and payouts."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.money import format_amount
from smmpanel.usecases import affiliates
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_amount, form_text, form_values, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of


async def _page(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    overview = await affiliates.overview(context_of(request).database)
    values.setdefault(
        "form",
        {"percent": format_amount(overview.terms.percent), "minimum": format_amount(overview.terms.minimum)},
    )
    values.setdefault("referrer_form", {})
    return show(request, "admin/affiliates.html", user, status_code=status_code, overview=overview, **values)


async def affiliate_page(request: Request) -> Response:
    return await _page(request, staff_user(request))


async def save_terms(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    try:
        percent = form_amount(form, "percent", "Commission percent")
        minimum = form_amount(form, "minimum", "Minimum payout")
        await affiliates.set_terms(context_of(request).database, percent, minimum, audit=acting(user))
    except Refused as refused:
        return await _page(request, user, status_code=400, error=refused.message, form=form_values(form))
    return redirect("/admin/affiliates", "Affiliate terms saved.", request)


async def referrer_percent(request: Request) -> Response:
    """One referrer's own percent; a blank percent puts them back on the panel's."""
    user = staff_user(request)
    form = await checked_form(request)
    username = form_text(form, "username").strip()
    try:
        percent = (
            None
            if not form_text(form, "referrer_percent").strip()
            else form_amount(form, "referrer_percent", "Percent")
        )
        await affiliates.set_referrer_percent(context_of(request).database, username, percent, audit=acting(user))
    except (Refused, NotFound) as refused:
        message = refused.message if isinstance(refused, Refused) else str(refused)
        return await _page(request, user, status_code=400, error=message, referrer_form=form_values(form))
    return redirect("/admin/affiliates", Phrase("%(username)s's percent saved.", username=username), request)


routes = [
    AdminRoute("/admin/affiliates", affiliate_page, Permission.PAYMENTS, methods=["GET"]),
    AdminRoute("/admin/affiliates", save_terms, Permission.PAYMENTS, methods=["POST"]),
    AdminRoute("/admin/affiliates/referrer", referrer_percent, Permission.PAYMENTS, methods=["POST"]),
]
