"""The operator's pages, under /admin: every one is an ``AdminRoute`` naming the permission it needs."""

from starlette.routing import BaseRoute

from smmpanel.web.admin import (
    affiliates,
    api_keys,
    attention,
    audit,
    coupons,
    customers,
    gateways,
    import_preview,
    language_settings,
    orders,
    overview,
    payments,
    people,
    provider_catalog,
    providers,
    service_upkeep,
    services,
    settings,
    staff,
    tickets,
)
from smmpanel.web.admin.notify_settings import routes as notify_settings_routes

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
    *api_keys.routes,
    *people.routes,
    *staff.routes,
    *payments.routes,
    *gateways.routes,
    *notify_settings_routes,
    *provider_catalog.routes,
    *import_preview.routes,
    *service_upkeep.routes,
    *coupons.routes,
    *affiliates.routes,
    *language_settings.routes,
]
