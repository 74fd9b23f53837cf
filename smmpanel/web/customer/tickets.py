"""Support tickets: open one (about an order, if it helps), read the answers, reply."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.db.repositories import Customer
from smmpanel.domain import messages as msg
from smmpanel.domain.orders import parse_whole
from smmpanel.domain.tickets import TicketTopic
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.usecases import tickets
from smmpanel.web.auth_routes import form_text
from smmpanel.web.customer.common import path_id, query_id, show
from smmpanel.web.pages import pager_urls, redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of, require_user


def _order_id(text: str) -> int | None:
    """The optional order a ticket is about: blank is none; anything else must be an order id."""
    if not text.strip():
        return None
    number = parse_whole(text)
    if not number:
        raise Refused(msg.INCORRECT_ORDER)
    return number


async def ticket_list(request: Request) -> Response:
    user = await require_user(request)
    page = await tickets.tickets_of_customer(
        context_of(request).database, user.id, before=query_id(request, "before"), after=query_id(request, "after")
    )
    return show(request, "customer/tickets.html", user, page=page, links=pager_urls("/tickets", page, {}))


async def new_ticket(request: Request) -> Response:
    user = await require_user(request)
    if request.method == "GET":
        topic = request.query_params.get("topic", "")
        values = {"topic": topic, "subject": "", "message": "", "order": str(query_id(request, "order") or "")}
        return show(request, "customer/ticket_new.html", user, values=values, topics=list(TicketTopic))
    form = await checked_form(request)
    values = {name: form_text(form, name) for name in ("topic", "subject", "message", "order")}
    try:
        ticket_id = await tickets.open_ticket_on_topic(
            context_of(request).database,
            user.id,
            values["topic"],
            _order_id(values["order"]),
            values["subject"],
            values["message"],
        )
    except Refused as refused:
        return show(
            request,
            "customer/ticket_new.html",
            user,
            status_code=400,
            error=refused.message,
            values=values,
            topics=list(TicketTopic),
        )
    return redirect(
        f"/tickets/{ticket_id}",
        Phrase("Ticket #%(ticket_id)s opened. We will answer here.", ticket_id=ticket_id),
        request,
    )


async def _thread(
    request: Request, user: Customer, *, reply: str = "", error: str | None = None, status_code: int = 200
) -> Response:
    ticket_id = path_id(request, "ticket_id")
    try:
        thread = await tickets.ticket_for_customer(context_of(request).database, user.id, ticket_id)
    except NotFound:
        raise PageNotFound from None
    return show(request, "customer/ticket.html", user, status_code=status_code, thread=thread, reply=reply, error=error)


async def ticket_page(request: Request) -> Response:
    user = await require_user(request)
    if request.method == "GET":
        return await _thread(request, user)
    form = await checked_form(request)
    ticket_id = path_id(request, "ticket_id")
    reply = form_text(form, "message")
    try:
        await tickets.reply_as_customer(context_of(request).database, user.id, ticket_id, reply)
    except NotFound:
        raise PageNotFound from None
    except Refused as refused:
        return await _thread(request, user, reply=reply, error=refused.message, status_code=400)
    return redirect(f"/tickets/{ticket_id}", "Reply sent.", request)


routes = [
    Route("/tickets", ticket_list, methods=["GET"]),
    Route("/tickets/new", new_ticket, methods=["GET", "POST"]),
    Route("/tickets/{ticket_id:int}", ticket_page, methods=["GET", "POST"]),
]
