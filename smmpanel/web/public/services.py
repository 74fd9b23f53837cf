"""``/services``: the catalog and its prices, for a visitor at the public rates, for a customer at theirs.

Searchable by name (or id) and by category with a plain GET form, so it works without a script.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.domain.orders import parse_whole
from smmpanel.usecases import storefront
from smmpanel.usecases.customer_orders import ServiceOffer
from smmpanel.usecases.storefront import CatalogQuery
from smmpanel.web.customer.common import duration
from smmpanel.web.pages import render
from smmpanel.web.public.caching import cache_for
from smmpanel.web.security import context_of, current_user


def _page_url(query: CatalogQuery, page: int) -> str:
    kept = {"q": query.text, "category": query.category, "page": str(page)}
    return "/services?" + urlencode({name: value for name, value in kept.items() if value})


async def services_page(request: Request) -> Response:
    user = await current_user(request)
    customer = user if user is not None and not user.is_admin else None
    params = request.query_params
    query = CatalogQuery(params.get("q", ""), params.get("category", ""), parse_whole(params.get("page")) or 1)
    found = await storefront.catalog_page(context_of(request).database, query, customer)
    groups: dict[str, list[ServiceOffer]] = {}
    for offer in found.offers:
        groups.setdefault(offer.service.category, []).append(offer)
    page = render(
        request,
        "public/services.html",
        user,
        query=query,
        found=found,
        groups=groups,
        customer=customer,
        average=duration,
        previous_url=_page_url(query, found.page - 1) if found.page > 1 else None,
        next_url=_page_url(query, found.page + 1) if found.page < found.pages else None,
    )
    return cache_for(page, visitor=user is None)


routes = [Route("/services", services_page, methods=["GET"])]
