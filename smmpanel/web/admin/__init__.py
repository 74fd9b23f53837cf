"""The operator's pages, under /admin: every one requires an operator (anyone else gets a 404)."""

from starlette.routing import BaseRoute

from smmpanel.web.admin import (
    affiliates,
    attention,
    audit,
    coupons,
    customers,
    gateways,
    orders,
    overview,
    payments,
    providers,
    services,
    settings,
    tickets,
)

routes: list[BaseRoute] = [
    *overview.routes,
    *customers.routes,
    *services.routes,
    *orders.routes,
    *attention.routes,
    *providers.routes,
    *tickets.routes,
    *audit.routes,
    *settings.routes,
    *payments.routes,
    *gateways.routes,
    *coupons.routes,
    *affiliates.routes,
]
