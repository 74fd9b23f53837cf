"""The public storefront: the few headline figures of the landing page, and the catalog with prices.

Both are read from the process's catalog cache (``catalog.list_services``) and, for the average
times, from a cache of their own kept a minute: a visitor's page costs no query at all on a hit, a
customer's one more (their own rates, ``pricing.price_listing``). Only what customers may order is
shown: enabled services outside hidden categories, the same listing the API's ``services`` answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from smmpanel.db.repositories import Customer
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.domain.orders import parse_whole
from smmpanel.money import Units
from smmpanel.usecases import catalog
from smmpanel.usecases.customer_orders import ServiceOffer, completion_averages
from smmpanel.usecases.pricing import price_listing

PAGE_SIZE = 100
"""Services per page of the public list."""
AVERAGES_SECONDS = 60.0
"""How long the average completion times are kept: they move slowly, and every visitor reads them."""
MAX_SEARCH = 100
STOREFRONT = "storefront"


@dataclass(frozen=True)
class Headline:
    services: int
    categories: list[str]
    cheapest: Units | None
    """The lowest rate per 1000 (packages aside), to say "from …"."""


@dataclass(frozen=True)
class CatalogQuery:
    """A visitor's narrowing of the list: words of a name (or an id), a category, a page from 1."""

    text: str = ""
    category: str = ""
    page: int = 1

    def matches(self, service: Service) -> bool:
        if self.category and service.category != self.category:
            return False
        text = self.text.strip().casefold()
        if not text:
            return True
        return service.id == parse_whole(text) or text in service.name.casefold()


@dataclass(frozen=True)
class CatalogPage:
    offers: list[ServiceOffer]
    """This page's services, at the reader's rates, in the operator's order."""
    public_rates: dict[int, Units]
    """Service id → the rate a visitor pays, to mark where a customer's own rate differs."""
    categories: list[str]
    total: int
    page: int
    pages: int


async def headline(db: Database) -> Headline:
    listing = await catalog.list_services(db, enabled_only=True)
    rates = [service.rate for service in listing if service.type != ServiceType.PACKAGE]
    categories = list(dict.fromkeys(service.category for service in listing))
    return Headline(len(listing), categories, min(rates) if rates else None)


async def _averages(db: Database) -> dict[int, timedelta]:
    async def load() -> dict[int, timedelta]:
        async with db.read() as repos:
            return await completion_averages(repos)

    ttl = AVERAGES_SECONDS if db.cache_seconds > 0 else 0
    return await db.cached(STOREFRONT).fetch("averages", load, ttl)


async def catalog_page(db: Database, query: CatalogQuery, customer: Customer | None) -> CatalogPage:
    """One page of the catalog as ``customer`` buys it (None: a visitor, at the public rates)."""
    query = CatalogQuery(query.text[:MAX_SEARCH], query.category, query.page)
    listing = await catalog.list_services(db, enabled_only=True)
    categories = list(dict.fromkeys(service.category for service in listing))
    place = {category: index for index, category in enumerate(categories)}
    # Grouped by category (in the order customers see them) so that a page break never splits one twice.
    found = sorted((service for service in listing if query.matches(service)), key=lambda s: place[s.category])
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(query.page, 1), pages)
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    if customer is not None and shown:
        async with db.read() as repos:
            priced = await price_listing(repos, customer, shown)
    else:
        priced = shown
    averages = await _averages(db)
    return CatalogPage(
        offers=[ServiceOffer(service, averages.get(service.id)) for service in priced],
        public_rates={service.id: service.rate for service in shown},
        categories=categories,
        total=len(found),
        page=page,
        pages=pages,
    )
