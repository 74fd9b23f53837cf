"""Support tickets from the operator's side: unread first, answer, close (``usecases.tickets``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.domain.orders import parse_whole
from smmpanel.domain.roles import Permission
from smmpanel.domain.tickets import TicketStatus
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.usecases import desk, staff, tickets
from smmpanel.usecases.audit import record
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, path_id, query_id, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of

LIST_LIMIT = 200


def _status(text: str | None) -> TicketStatus | None:
    try:
        return TicketStatus(text) if text else None
    except ValueError:
        return None


async def _handlers(request: Request) -> dict[int, str]:
    """The members of staff a ticket can be assigned to, by id."""
    members = await staff.list_staff(context_of(request).database)
    return {m.user.id: m.user.username for m in members if m.user.may(Permission.TICKETS) and not m.user.disabled}


async def ticket_list(request: Request) -> Response:
    user = staff_user(request)
    status_text = request.query_params.get("status", "")
    mine = request.query_params.get("mine") == "1"
    listing = await tickets.tickets_for_operator(
        context_of(request).database,
        status=_status(status_text),
        limit=LIST_LIMIT,
        assigned_to=user.id if mine else None,
    )
    return show(
        request,
        "admin/tickets.html",
        user,
        tickets=listing,
        status_filter=status_text,
        statuses=list(TicketStatus),
        mine=mine,
        handlers=await _handlers(request),
    )


async def _thread(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    try:
        thread = await tickets.ticket_for_operator(context_of(request).database, path_id(request))
    except NotFound:
        raise PageNotFound from None
    handlers = await _handlers(request)
    replies = await desk.canned_replies(context_of(request).database)
    chosen = next((reply for reply in replies if reply.id == query_id(request, "canned")), None)
    if chosen is not None:  # "Insert" without JavaScript: the answer box comes back holding the reply
        values.setdefault("form", {"message": chosen.body})
    return show(
        request,
        "admin/ticket.html",
        user,
        status_code=status_code,
        thread=thread,
        handlers=handlers,
        canned=replies,
        **values,
    )


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
    await record(context_of(request).database, acting(user), "ticket.reply", f"ticket {ticket_id}", None, None)
    return redirect(f"/admin/tickets/{ticket_id}", "Answer sent.", request)


async def close(request: Request) -> Response:
    await checked_form(request)
    ticket_id, db = path_id(request), context_of(request).database
    try:
        await tickets.close_ticket(db, ticket_id)
    except NotFound:
        raise PageNotFound from None
    await record(db, acting(staff_user(request)), "ticket.close", f"ticket {ticket_id}", None, None)
    return redirect("/admin/tickets", Phrase("Ticket %(ticket_id)s closed.", ticket_id=ticket_id), request)


async def assign(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    ticket_id = path_id(request)
    chosen = [value for value in form.getlist("assignee") if isinstance(value, str)]
    assignee = user.id if "me" in chosen else parse_whole(form_text(form, "assignee"))
    try:
        name = await staff.assign_ticket(context_of(request).database, ticket_id, assignee, audit=acting(user))
    except NotFound:
        raise PageNotFound from None
    except Refused as refused:
        return await _thread(request, user, status_code=400, error=refused.message)
    notice = (
        Phrase("Ticket %(ticket_id)s is assigned to %(name)s.", ticket_id=ticket_id, name=name)
        if name
        else Phrase("Ticket %(ticket_id)s is assigned to nobody.", ticket_id=ticket_id)
    )
    return redirect(f"/admin/tickets/{ticket_id}", notice, request)


routes = [
    AdminRoute("/admin/tickets", ticket_list, Permission.TICKETS, methods=["GET"]),
    AdminRoute("/admin/tickets/{id:int}", ticket_page, Permission.TICKETS, methods=["GET"]),
    AdminRoute("/admin/tickets/{id:int}/reply", reply, Permission.TICKETS, methods=["POST"]),
    AdminRoute("/admin/tickets/{id:int}/close", close, Permission.TICKETS, methods=["POST"]),
    AdminRoute("/admin/tickets/{id:int}/assign", assign, Permission.TICKETS, methods=["POST"]),
]
