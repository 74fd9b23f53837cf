"""The operator's pages, under /admin: every one requires an operator (anyone else gets a 404)."""

from starlette.routing import BaseRoute

from smmpanel.web.admin import attention, audit, customers, orders, overview, providers, services, settings, tickets
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
    *notify_settings_routes,
]
