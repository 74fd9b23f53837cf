"""Support tickets from the operator's side: unread first, answer, close (``usecases.tickets``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.domain.roles import Permission
from smmpanel.domain.tickets import TicketStatus
from smmpanel.errors import NotFound, Refused
from smmpanel.usecases import tickets
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import form_text, path_id, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of

LIST_LIMIT = 200


def _status(text: str | None) -> TicketStatus | None:
    try:
        return TicketStatus(text) if text else None
    except ValueError:
        return None


async def ticket_list(request: Request) -> Response:
    user = staff_user(request)
    status_text = request.query_params.get("status", "")
    listing = await tickets.tickets_for_operator(
        context_of(request).database, status=_status(status_text), limit=LIST_LIMIT
    )
    return show(
        request,
        "admin/tickets.html",
        user,
        tickets=listing,
        status_filter=status_text,
        statuses=list(TicketStatus),
    )


async def _thread(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    try:
        thread = await tickets.ticket_for_operator(context_of(request).database, path_id(request))
    except NotFound:
        raise PageNotFound from None
    return show(request, "admin/ticket.html", user, status_code=status_code, thread=thread, **values)


async def ticket_page(request: Request) -> Response:
    return await _thread(request, staff_user(request))


async def reply(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    ticket_id = path_id(request)
    message = form_text(form, "message")
    try:
        await tickets.reply_as_operator(context_of(request).database, user.id, ticket_id, message)
    except NotFound:
        raise PageNotFound from None
    except Refused as refused:
        return await _thread(request, user, status_code=400, error=refused.message, form={"message": message})
    return redirect(f"/admin/tickets/{ticket_id}", "Answer sent.", request)


async def close(request: Request) -> Response:
    await checked_form(request)
    ticket_id = path_id(request)
    try:
        await tickets.close_ticket(context_of(request).database, ticket_id)
    except NotFound:
        raise PageNotFound from None
    return redirect("/admin/tickets", f"Ticket {ticket_id} closed.", request)


routes = [
    AdminRoute("/admin/tickets", ticket_list, Permission.TICKETS, methods=["GET"]),
    AdminRoute("/admin/tickets/{id:int}", ticket_page, Permission.TICKETS, methods=["GET"]),
    AdminRoute("/admin/tickets/{id:int}/reply", reply, Permission.TICKETS, methods=["POST"]),
    AdminRoute("/admin/tickets/{id:int}/close", close, Permission.TICKETS, methods=["POST"]),
]
