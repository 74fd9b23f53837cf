"""Mass order: one ``service | link | quantity`` line per order, each line's outcome shown.

The results are shown in the answer to the POST itself (they are too long for a
session cookie); the refused lines, and only they, stay in the box, their reasons beside it,
to be fixed and placed again. A reload would post the same lines again, so each form carries
a one-time mark: a form already placed is not placed twice.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.db.repositories import Customer
from smmpanel.errors import Phrase, Refused
from smmpanel.i18n import N_
from smmpanel.money import format_amount
from smmpanel.usecases.accounts import customer_by_id
from smmpanel.usecases.customer_orders import ServiceOffer, service_offers
from smmpanel.usecases.mass_orders import MAX_LINES, MassLine, place_mass_order
from smmpanel.web.auth_routes import form_text
from smmpanel.web.customer.common import currency, show
from smmpanel.web.security import checked_form, context_of, require_user

PLACED_MARK = "mass_placed"


async def _page(
    request: Request,
    user: Customer,
    *,
    text: str = "",
    results: list[MassLine] | None = None,
    refused: list[MassLine] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    offers: list[ServiceOffer] = await service_offers(context_of(request).database, user)
    return show(
        request,
        "customer/mass_order.html",
        user,
        status_code=status_code,
        text=text,
        results=results,
        refused=refused or [],
        error=error,
        notice=notice,
        mark=secrets.token_urlsafe(16),
        max_lines=MAX_LINES,
        offers=offers,
    )


async def mass_order(request: Request) -> Response:
    user = await require_user(request)
    if request.method == "GET":
        return await _page(request, user)
    form = await checked_form(request)
    text, mark = form_text(form, "orders"), form_text(form, "mark")
    if mark and request.session.get(PLACED_MARK) == mark:
        return await _page(request, user, error="These orders were already placed: see Orders.", status_code=409)
    try:
        results = await place_mass_order(context_of(request).database, user.id, text)
    except Refused as refused:
        return await _page(request, user, text=text, error=refused.message, status_code=400)
    request.session[PLACED_MARK] = mark
    placed = [line for line in results if line.order_id]
    total = sum(line.charge for line in placed)
    refused_count = len(results) - len(placed)
    counts = {"placed": len(placed), "results": len(results), "refused_count": refused_count}
    template = N_("%(placed)s of %(results)s orders placed, %(total)s %(currency)s charged.")
    if refused_count:
        template = N_(
            "%(placed)s of %(results)s orders placed, %(total)s %(currency)s charged."
            " %(refused_count)s refused: nothing was charged for them."
        )
    notice = Phrase(template, total=format_amount(total), currency=currency(request), **counts)
    fresh = await customer_by_id(context_of(request).database, user.id)  # the header shows the balance left
    kept = [line for line in results if not line.order_id]  # back in the box, to fix and place again
    text = "\n".join(line.text for line in kept)
    return await _page(request, fresh or user, text=text, results=results, refused=kept, notice=notice)


routes = [Route("/orders/mass", mass_order, methods=["GET", "POST"])]
