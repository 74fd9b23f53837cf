"""New order: pick a category and a service, fill in what its type needs, see the charge live.

The browser computes the charge only as a preview; the order is placed by
``orders.place_order`` with the same parameters an API ``add`` carries, so the
checks, the charge and the error texts are the API's own.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.db.repositories import Customer
from smmpanel.domain.catalog import ServiceType
from smmpanel.domain.orders import MAX_INTERVAL_MINUTES, MAX_RUNS, SUBSCRIPTION_DELAYS
from smmpanel.errors import Phrase, Refused
from smmpanel.i18n import N_
from smmpanel.money import format_amount
from smmpanel.usecases.customer_orders import ServiceOffer, place_order_with_receipt, service_offers
from smmpanel.web.auth_routes import form_text
from smmpanel.web.customer.common import currency, duration, query_id, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of, require_user

ORDER_FIELDS = (
    "service",
    "link",
    "quantity",
    "comments",
    "usernames",
    "hashtag",
    "username",
    "answer_number",
    "min",
    "max",
    "posts",
    "old_posts",
    "delay",
    "expiry",
)
DRIP_FEED_FIELDS = ("runs", "interval")


def order_params(form: FormData) -> dict[str, str]:
    """The API ``add`` parameters the form carries; drip-feed ones only when drip-feed is ticked."""
    names = ORDER_FIELDS + (DRIP_FEED_FIELDS if form_text(form, "drip_feed") else ())
    return {name: form_text(form, name) for name in names if name in form}


def _service_data(offer: ServiceOffer) -> dict[str, object]:
    """What the page's script needs to show a service and preview its charge (amounts in 1/100,000)."""
    service = offer.service
    return {
        "id": service.id,
        "name": service.name,
        "category": service.category,
        "type": service.type.value,
        "rate": service.rate,
        "min": service.min,
        "max": service.max,
        "refill": service.refill,
        "refill_days": service.refill_days,
        "cancel": service.cancel,
        "description": service.description,
        "average": duration(offer.average_completion),
    }


async def _form(
    request: Request, user: Customer, values: dict[str, str], *, error: str | None = None, status_code: int = 200
) -> Response:
    offers = await service_offers(context_of(request).database, user)
    wanted = int(values["service"]) if values.get("service", "").isdigit() else None
    selected = next((offer for offer in offers if offer.service.id == wanted), offers[0] if offers else None)
    categories = list(dict.fromkeys(offer.service.category for offer in offers))
    return show(
        request,
        "customer/new_order.html",
        user,
        status_code=status_code,
        error=error,
        offers=offers,
        categories=categories,
        selected=selected,
        selected_average=duration(selected.average_completion) if selected else "",
        values=values,
        services_data=[_service_data(offer) for offer in offers],
        types=ServiceType,
        delays=sorted(SUBSCRIPTION_DELAYS),
        max_runs=MAX_RUNS,
        max_interval=MAX_INTERVAL_MINUTES,
    )


async def new_order(request: Request) -> Response:
    user = await require_user(request)
    if request.method == "GET":
        service_id = query_id(request, "service")
        return await _form(request, user, {"service": str(service_id or "")})
    form = await checked_form(request)
    values = {name: form_text(form, name) for name in (*ORDER_FIELDS, *DRIP_FEED_FIELDS, "drip_feed")}
    try:
        receipt = await place_order_with_receipt(context_of(request).database, user.id, order_params(form))
    except Refused as refused:
        return await _form(request, user, values, error=refused.message, status_code=400)
    money = currency(request)
    template = (
        N_("Order #%(order_id)s placed. Charged %(charge)s %(currency)s. Your balance is now %(balance)s %(currency)s.")
        if receipt.charge
        else N_(
            "Order #%(order_id)s placed. Nothing charged yet: each post is charged when it is delivered."
            " Your balance is now %(balance)s %(currency)s."
        )
    )
    amounts = {"charge": format_amount(receipt.charge), "balance": format_amount(receipt.balance)}
    notice = Phrase(template, order_id=receipt.order_id, currency=money, **amounts)
    return redirect(f"/orders/new?service={values['service'].strip()}", notice, request)


routes = [Route("/orders/new", new_order, methods=["GET", "POST"])]
