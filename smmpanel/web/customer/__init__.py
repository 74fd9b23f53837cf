"""The customer's pages: ordering, their orders, drip-feeds, refills, funds, support and the API."""

from starlette.routing import BaseRoute

from smmpanel.web.customer import (
    affiliates,
    api_page,
    coupons,
    deposits,
    drip_feeds,
    funds,
    mass_order,
    new_order,
    orders,
    refills,
    subscriptions,
    tickets,
    updates,
)

# New order and mass order come before /orders/{id}; the id routes only match digits anyway.
routes: list[BaseRoute] = [
    *new_order.routes,
    *mass_order.routes,
    *orders.routes,
    *subscriptions.routes,
    *drip_feeds.routes,
    *refills.routes,
    *funds.routes,
    *tickets.routes,
    *api_page.routes,
    *deposits.routes,
    *updates.routes,
    *affiliates.routes,
    *coupons.routes,
]
