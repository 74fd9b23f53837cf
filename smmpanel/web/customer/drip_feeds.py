"""Drip-feed schedules: see each one's runs, stop one (the runs never placed are refunded)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.errors import NotFound, Refused
from smmpanel.i18n import N_
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
    notice = N_(
        "Drip-feed #%(order_id)s stopped after %(runs_done)s of %(runs)s runs. "
        "Refunded so far: %(refunded)s %(currency)s; your balance is now %(balance)s %(currency)s."
    )
    runs = {"runs_done": stopped.runs_done, "runs": stopped.runs}
    amounts = {"refunded": format_amount(stopped.refunded), "balance": format_amount(balance)}
    return redirect("/drip-feeds", notice, request, order_id=order_id, currency=money, **runs, **amounts)


routes = [
    Route("/drip-feeds", drip_feed_list, methods=["GET"]),
    Route("/drip-feeds/{order_id:int}/stop", stop, methods=["POST"]),
]
