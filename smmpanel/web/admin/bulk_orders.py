"""Bulk changes on the orders list: tick orders, pick a change, review the plan, confirm once."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.domain.roles import Permission
from smmpanel.errors import Refused
from smmpanel.usecases import bulk_orders
from smmpanel.usecases.bulk_orders import BulkAction
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_ids, form_text, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of

LABELS = {
    BulkAction.PENDING: "Set status: Pending",
    BulkAction.IN_PROGRESS: "Set status: In progress",
    BulkAction.PROCESSING: "Set status: Processing",
    BulkAction.COMPLETE: "Complete",
    BulkAction.RESEND: "Resend (orders needing attention)",
    BulkAction.CANCEL: "Cancel and refund",
}


def choices(user: Customer) -> list[tuple[str, str]]:
    """The bulk changes this member of staff may make, as (value, label) for the orders list."""
    return [(action.value, label) for action, label in LABELS.items() if user.may(action.permission)]


def _action(user: Customer, text: str) -> BulkAction:
    action = bulk_orders.bulk_action(text)
    if not user.may(action.permission):
        raise Refused("Your role may not make this change")
    return action


async def review(request: Request) -> Response:
    """The plan: each ticked order and what will happen to it; nothing changes yet."""
    user = staff_user(request)
    form = await checked_form(request)
    try:
        action = _action(user, form_text(form, "action"))
        plan = await bulk_orders.plan(context_of(request).database, action, form_ids(form, "order"))
    except Refused as refused:
        return show(request, "admin/orders_bulk.html", user, status_code=400, error=refused.message, plan=None)
    return show(request, "admin/orders_bulk.html", user, plan=plan, action=action, label=LABELS[action])


async def confirm(request: Request) -> Response:
    """Each order through its own use case; back to the list with what was done and what refused."""
    user = staff_user(request)
    form = await checked_form(request)
    try:
        action = _action(user, form_text(form, "action"))
        outcomes = await bulk_orders.apply(
            context_of(request).database, action, form_ids(form, "order"), audit=acting(user)
        )
    except Refused as refused:
        return show(request, "admin/orders_bulk.html", user, status_code=400, error=refused.message, plan=None)
    done = [str(order_id) for order_id, refusal in outcomes.items() if refusal is None]
    left = [f"#{order_id} ({refusal})" for order_id, refusal in outcomes.items() if refusal is not None]
    notice = f"{LABELS[action]}: {len(done)} done" + (f" ({', '.join('#' + i for i in done)})" if done else "")
    if left:
        notice += f"; refused: {', '.join(left)}"
    return redirect("/admin/orders", f"{notice}.", request)


routes = [
    # Cancel and refund also needs the refunds permission (``BulkAction.permission``), checked per action.
    AdminRoute("/admin/orders/bulk", review, Permission.ORDERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/orders/bulk/confirm", confirm, Permission.ORDERS_WRITE, methods=["POST"]),
]
