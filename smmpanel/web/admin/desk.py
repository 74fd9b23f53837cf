"""The operator's queues that had no page: open cancel requests, and the canned replies for tickets."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.money import format_amount
from smmpanel.usecases import desk
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, form_values, path_id, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of


async def _requests(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    listing = await desk.cancel_requests(context_of(request).database)
    return show(request, "admin/cancel_requests.html", user, status_code=status_code, requests=listing, **values)


async def cancel_requests(request: Request) -> Response:
    return await _requests(request, staff_user(request))


async def _settle(request: Request, *, accept: bool) -> Response:
    user = staff_user(request)
    await checked_form(request)
    order_id, db = path_id(request), context_of(request).database
    try:
        if accept:
            order = await desk.accept_cancel(db, order_id, audit=acting(user))
            notice = Phrase(
                "Order %(order_id)s canceled, %(refunded)s refunded.",
                order_id=order_id,
                refunded=format_amount(order.refunded),
            )
        else:
            await desk.refuse_cancel(db, order_id, audit=acting(user))
            notice = Phrase("Order %(order_id)s: cancel request refused, the order goes on.", order_id=order_id)
    except NotFound:
        raise PageNotFound from None
    except Refused as refused:
        return await _requests(request, user, status_code=400, error=refused.message)
    return redirect("/admin/requests-to-cancel", notice, request)


async def accept_cancel(request: Request) -> Response:
    return await _settle(request, accept=True)


async def refuse_cancel(request: Request) -> Response:
    return await _settle(request, accept=False)


async def _replies(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    replies = await desk.canned_replies(context_of(request).database)
    return show(request, "admin/canned_replies.html", user, status_code=status_code, replies=replies, **values)


async def canned_replies(request: Request) -> Response:
    return await _replies(request, staff_user(request))


async def save_canned_reply(request: Request) -> Response:
    """Add one (no id in the address) or change one; a refusal shows the form again as typed."""
    user = staff_user(request)
    form = await checked_form(request)
    reply_id = path_id(request) if "id" in request.path_params else None
    try:
        saved = await desk.save_canned_reply(
            context_of(request).database,
            form_text(form, "title"),
            form_text(form, "body"),
            reply_id=reply_id,
            audit=acting(user),
        )
    except NotFound:
        raise PageNotFound from None
    except Refused as refused:
        values = {**form_values(form), "id": str(reply_id or "")}
        return await _replies(request, user, status_code=400, error=refused.message, form=values)
    return redirect("/admin/canned-replies", "Canned reply %(saved)s saved.", request, saved=saved)


async def delete_canned_reply(request: Request) -> Response:
    user = staff_user(request)
    await checked_form(request)
    reply_id = path_id(request)
    try:
        await desk.delete_canned_reply(context_of(request).database, reply_id, audit=acting(user))
    except NotFound:
        raise PageNotFound from None
    return redirect("/admin/canned-replies", "Canned reply %(reply_id)s deleted.", request, reply_id=reply_id)


routes = [
    AdminRoute("/admin/requests-to-cancel", cancel_requests, Permission.ORDERS_READ, methods=["GET"]),
    AdminRoute("/admin/requests-to-cancel/{id:int}/accept", accept_cancel, Permission.REFUNDS, methods=["POST"]),
    AdminRoute("/admin/requests-to-cancel/{id:int}/refuse", refuse_cancel, Permission.ORDERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/canned-replies", canned_replies, Permission.TICKETS, methods=["GET"]),
    AdminRoute("/admin/canned-replies", save_canned_reply, Permission.TICKETS, methods=["POST"]),
    AdminRoute("/admin/canned-replies/{id:int}", save_canned_reply, Permission.TICKETS, methods=["POST"]),
    AdminRoute("/admin/canned-replies/{id:int}/delete", delete_canned_reply, Permission.TICKETS, methods=["POST"]),
]
