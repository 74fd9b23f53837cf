"""The operator's front page: money, the order book, tickets waiting, providers running low or unreachable."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.domain.roles import Permission
from smmpanel.usecases import outages, reports
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.charts import counts, money_by_day
from smmpanel.web.admin.common import provider_pool, show
from smmpanel.web.security import context_of


async def overview(request: Request) -> Response:
    user = staff_user(request)
    context = context_of(request)
    figures = await reports.overview(context.database)
    async with provider_pool(request, quick=True) as pool:
        health = await reports.provider_health(context.database, pool)
    down = await outages.outages(context.database)
    return show(
        request,
        "admin/overview.html",
        user,
        figures=figures,
        low=health.low,
        unreachable=health.unreachable,
        waiting={outage.provider.id: outage.waiting for outage in down},
        money_chart=money_by_day(figures.days, context.settings.currency),
        status_chart=counts(figures.orders_by_status, "Orders by status, last 30 days"),
    )


routes = [AdminRoute("/admin", overview, Permission.REPORTS, methods=["GET"])]
