"""The operator's pages, under /admin: every one requires an operator (anyone else gets a 404)."""

from starlette.routing import BaseRoute

from smmpanel.web.admin import (
    attention,
    audit,
    customers,
    import_preview,
    orders,
    overview,
    provider_catalog,
    providers,
    service_upkeep,
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
    *provider_catalog.routes,
    *import_preview.routes,
    *service_upkeep.routes,
]
