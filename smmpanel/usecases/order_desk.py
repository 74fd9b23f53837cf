"""The operator's order desk: find any order, look at one closely, ask its provider about it now.

Changing an order goes through ``orders`` (status, start count, remains, link) and
``fulfilment`` (the attention list); this module only adds the views and the
"check with the provider now" that the engine would otherwise do on its schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.clock import utcnow
from smmpanel.db.dispatch_repositories import ATTENTION, DRIPFEED, QUEUED, SENT, SyncClaim
from smmpanel.db.link_search import INDEXED_LENGTH, SHORT_WINDOW, is_short
from smmpanel.db.order_repositories import OrderSearch
from smmpanel.db.provider_repositories import Provider
from smmpanel.db.repositories import Customer, Refill
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service
from smmpanel.domain.orders import Order, OrderStatus, parse_whole
from smmpanel.domain.refills import RefillStatus
from smmpanel.errors import NotFound, Refused
from smmpanel.providers.apiv2_client import UpstreamError
from smmpanel.providers.pool import ClientPool
from smmpanel.usecases import fulfilment
from smmpanel.usecases.paging import Page, keyset_page

PAGE_SIZE = 50
LINK_INDEXED_LENGTH = INDEXED_LENGTH
"""A link search this long or longer is answered from an index over every order."""
LINK_SHORT_WINDOW = SHORT_WINDOW
"""A shorter one is looked for among this many of the newest order numbers only."""


@dataclass(frozen=True)
class OrderQuery:
    """The operator's filters as typed: ``text`` is an order id (digits) or any part of a link;
    ``upstream_id`` the order's id at its provider, exactly."""

    text: str = ""
    status: OrderStatus | None = None
    username: str = ""
    service_id: int | None = None
    provider_id: int | None = None
    upstream_id: str = ""


@dataclass(frozen=True)
class OrderRow:
    order: Order
    username: str
    service_name: str = ""
    claimed_by: str | None = None
    """The admin API key that pulled this manual order and is working on it now."""


def newest_only(query: OrderQuery) -> bool:
    """The text is a link part too short for an index: ``find_orders`` searches the newest orders only."""
    text = query.text.strip()
    return bool(text) and parse_whole(text) is None and is_short(text)


async def find_orders(
    db: Database, query: OrderQuery, *, before: int | None = None, after: int | None = None, limit: int = PAGE_SIZE
) -> Page[OrderRow]:
    """Everyone's orders, newest first, a keyset page at a time; an unknown customer finds nothing."""
    text = query.text.strip()
    number = parse_whole(text)
    async with db.read() as repos:
        user_id = None
        if query.username.strip():
            customer = await repos.users.by_username(query.username.strip())
            if customer is None:
                return Page()
            user_id = customer.id
        link = text if text and number is None else None
        search = OrderSearch(
            order_id=number,
            link=link,
            link_common=link is not None and await repos.desk.link_is_common(link),
            status=query.status.value if query.status else None,
            user_id=user_id,
            service_id=query.service_id,
            provider_id=query.provider_id,
            upstream_id=query.upstream_id.strip() or None,
        )

        async def fetch(before: int | None, after: int | None, limit: int) -> list[OrderRow]:
            rows = await repos.orders.search_page(search, before=before, after=after, limit=limit)
            return [OrderRow(order, username) for order, username in rows]

        page = await keyset_page(fetch, lambda row: row.order.id, before=before, after=after, limit=limit)
        services = await repos.services.many({row.order.service_id for row in page.items})
        claims = await repos.admin_api.claims([row.order.id for row in page.items], utcnow())
    named = [
        OrderRow(row.order, row.username, services[row.order.service_id].name, claims.get(row.order.id))
        for row in page.items
    ]
    return Page(named, page.newer, page.older)


@dataclass(frozen=True)
class OrderView:
    order: Order
    customer: Customer
    service: Service
    provider: Provider | None
    refills: list[Refill]
    claimed_by: str | None = None
    """The admin API key that pulled this manual order and is working on it now."""

    @property
    def link_editable(self) -> bool:
        """The link may change only while no provider has the order (see ``orders.change_link``)."""
        order = self.order
        unsent = order.dispatch in (None, QUEUED) or (order.dispatch == DRIPFEED and order.runs_done == 0)
        return unsent and not order.status.is_final and order.provider_order_id is None

    @property
    def needs_attention(self) -> bool:
        return self.order.dispatch == ATTENTION

    @property
    def checkable(self) -> bool:
        """Its provider can be asked about it now."""
        return self.order.dispatch == SENT and self.order.provider_order_id is not None


async def order_view(db: Database, order_id: int) -> OrderView:
    async with db.read() as repos:
        order = await repos.orders.get(order_id)
        if order is None:
            raise NotFound(f"no order {order_id}")
        customer = await repos.users.by_id(order.user_id)
        service = await repos.services.get(order.service_id)
        providers = await repos.providers.many({order.provider_id}) if order.provider_id else {}
        refills = await repos.refills.of_order(order_id)
        claims = await repos.admin_api.claims([order_id], utcnow())
    assert customer is not None and service is not None  # neither is ever deleted
    return OrderView(order, customer, service, providers.get(order.provider_id or 0), refills, claims.get(order_id))


async def check_with_provider(db: Database, pool: ClientPool, order_id: int) -> Order:
    """Ask the order's provider for its status now and apply the answer as the engine's sync would."""
    view = await order_view(db, order_id)
    order, provider = view.order, view.provider
    upstream_id = parse_whole(order.provider_order_id)
    if not view.checkable or provider is None or upstream_id is None:
        raise Refused("order %(order_id)s is not being fulfilled by a provider right now", order_id=order_id)
    try:
        answers = await pool.client_for(provider).statuses([upstream_id])
    except UpstreamError as error:
        raise Refused("%(provider_name)s: %(error)s", provider_name=provider.name, error=error) from None
    if upstream_id not in answers:
        raise Refused(
            "%(provider_name)s did not answer about its order %(upstream_id)s",
            provider_name=provider.name,
            upstream_id=upstream_id,
        )
    claim = SyncClaim(order.id, provider.id, upstream_id)
    await fulfilment.apply_upstream_statuses(db, [(claim, answers[upstream_id])], provider)
    async with db.read() as repos:
        updated = await repos.orders.get(order_id)
    assert updated is not None
    return updated


async def all_refills(
    db: Database,
    *,
    status: RefillStatus | None,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> Page[tuple[Refill, str]]:
    """Everyone's refills with their customers' names, newest first; settled with ``refills.update_refill``."""
    async with db.read() as repos:

        async def fetch(before: int | None, after: int | None, limit: int) -> list[tuple[Refill, str]]:
            return await repos.refills.page(
                status=status.value if status else None, before=before, after=after, limit=limit
            )

        return await keyset_page(fetch, lambda row: row[0].id, before=before, after=after, limit=limit)


@dataclass(frozen=True)
class AttentionRow:
    """An order waiting for the operator, with whose it is and what was bought."""

    order: Order
    username: str
    service_name: str


async def attention_rows(db: Database, limit: int) -> list[AttentionRow]:
    """The attention list (``fulfilment.attention_list``), each order with its customer and service."""
    listing = await fulfilment.attention_list(db, limit)
    async with db.read() as repos:
        found = await repos.services.many({order.service_id for order in listing})
        names = {}
        for user_id in {order.user_id for order in listing}:
            customer = await repos.users.by_id(user_id)
            names[user_id] = customer.username if customer else f"#{user_id}"
    return [
        AttentionRow(
            order,
            names[order.user_id],
            found[order.service_id].name if order.service_id in found else f"#{order.service_id}",
        )
        for order in listing
    ]
