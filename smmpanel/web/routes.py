"""Every dashboard page beyond logging in: the customer's side and the operator's side."""

from __future__ import annotations

from starlette.routing import BaseRoute

from smmpanel.web import admin, customer


def dashboard_routes() -> list[BaseRoute]:
    return [*customer.routes, *admin.routes]
