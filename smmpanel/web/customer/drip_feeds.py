"""Drip-feed schedules: see each one's runs, stop one (the runs never placed are refunded)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.errors import NotFound, Refused
from smmpanel.money import format_amount
from smmpanel.usecases.customer_orders import drip_feeds_page, stop_schedule
from smmpanel.web.customer.common import currency, path_id, query_id, redirect_error, show
from smmpanel.web.pages import pager_urls, redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of, require_user


async def drip_feed_list(request: Request) -> Response:
    user = await require_user(request)
    page = await drip_feeds_page(
        context_of(request).database, user.id, before=query_id(request, "before"), after=query_id(request, "after")
    )
    return show(request, "customer/drip_feeds.html", user, page=page, links=pager_urls("/drip-feeds", page, {}))


async def stop(request: Request) -> Response:
    user = await require_user(request)
    await checked_form(request)
    order_id = path_id(request, "order_id")
    try:
        stopped, balance = await stop_schedule(context_of(request).database, user.id, order_id)
    except NotFound:
        raise PageNotFound from None
    except Refused as refused:
        return redirect_error("/drip-feeds", refused.message, request)
    money = currency(request)
    notice = (
        f"Drip-feed #{order_id} stopped after {stopped.runs_done} of {stopped.runs} runs. "
        f"Refunded so far: {format_amount(stopped.refunded)} {money}; "
        f"your balance is now {format_amount(balance)} {money}."
    )
    return redirect("/drip-feeds", notice, request)


routes = [
    Route("/drip-feeds", drip_feed_list, methods=["GET"]),
    Route("/drip-feeds/{order_id:int}/stop", stop, methods=["POST"]),
]
