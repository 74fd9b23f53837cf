"""The attention list (orders the engine could not settle alone) and everyone's refills."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.domain.refills import RefillStatus
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.usecases import audit, fulfilment, outages, refills
from smmpanel.usecases.order_desk import all_refills, attention_rows
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, form_values, form_whole, path_id, query_id, show
from smmpanel.web.pages import pager_urls, redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of

ATTENTION_LIMIT = 200
REFILL_ACTIONS = {"approve": RefillStatus.COMPLETED, "reject": RefillStatus.REJECTED}


async def _attention(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    db = context_of(request).database
    listing = await attention_rows(db, ATTENTION_LIMIT)
    down = await outages.outages(db)
    return show(request, "admin/attention.html", user, status_code=status_code, orders=listing, outages=down, **values)


async def attention(request: Request) -> Response:
    return await _attention(request, staff_user(request))


async def attention_action(request: Request) -> Response:
    """Resend, link to the provider's order, or fail (refunding): the operator's three answers."""
    user = staff_user(request)
    form = await checked_form(request)
    db = context_of(request).database
    order_id, action = path_id(request), request.path_params["action"]
    if action not in ("resend", "set-upstream", "fail"):
        raise PageNotFound
    try:
        if action == "resend":
            await fulfilment.resend(db, order_id, audit=acting(user))
            notice = Phrase("Order %(order_id)s is queued to be sent again.", order_id=order_id)
        elif action == "set-upstream":
            provider_order_id = form_whole(form, "provider_order_id", "Provider's order id")
            await fulfilment.set_upstream(db, order_id, provider_order_id)
            facts = {"provider_order_id": provider_order_id}
            await audit.record(db, acting(user), "order.set_upstream", f"order {order_id}", None, facts)
            notice = Phrase(
                "Order %(order_id)s now follows the provider's order %(provider_order_id)s.",
                order_id=order_id,
                provider_order_id=provider_order_id,
            )
        else:
            await fulfilment.fail(db, order_id, audit=acting(user))
            notice = Phrase("Order %(order_id)s failed: canceled and refunded.", order_id=order_id)
    except (Refused, NotFound) as refusal:
        message = refusal.message if isinstance(refusal, Refused) else str(refusal)
        values = {**form_values(form), "order_id": str(order_id)}
        return await _attention(request, user, status_code=400, error=message, form=values)
    return redirect("/admin/attention", notice, request)


def _refill_status(text: str | None) -> RefillStatus | None:
    try:
        return RefillStatus(text) if text else None
    except ValueError:
        return None


async def _refills(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    status_text = request.query_params.get("status", "")
    page = await all_refills(
        context_of(request).database,
        status=_refill_status(status_text),
        before=query_id(request, "before"),
        after=query_id(request, "after"),
    )
    links = pager_urls("/admin/refills", page, {"status": status_text})
    return show(
        request,
        "admin/refills.html",
        user,
        status_code=status_code,
        page=page,
        links=links,
        status_filter=status_text,
        statuses=list(RefillStatus),
        **values,
    )


async def refill_list(request: Request) -> Response:
    return await _refills(request, staff_user(request))


async def settle_refill(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    refill_id = path_id(request)
    status = REFILL_ACTIONS.get(request.path_params["action"])
    if status is None:
        raise PageNotFound
    try:
        refill = await refills.update_refill(
            context_of(request).database, refill_id, status, reason=form_text(form, "reason")
        )
        facts = {"status": status.value, "reason": refill.reason}
        await audit.record(
            context_of(request).database, acting(user), "refill.update", f"refill {refill_id}", None, facts
        )
    except (Refused, NotFound) as refusal:
        message = refusal.message if isinstance(refusal, Refused) else str(refusal)
        return await _refills(request, user, status_code=400, error=message)
    return redirect(
        "/admin/refills", Phrase("Refill %(refill_id)s: %(value)s.", refill_id=refill_id, value=status.value), request
    )


routes = [
    AdminRoute("/admin/attention", attention, Permission.ORDERS_READ, methods=["GET"]),
    AdminRoute("/admin/attention/{id:int}/{action:str}", attention_action, Permission.ORDERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/refills", refill_list, Permission.ORDERS_READ, methods=["GET"]),
    AdminRoute("/admin/refills/{id:int}/{action:str}", settle_refill, Permission.ORDERS_WRITE, methods=["POST"]),
]
