"""Reports over a date range (per service, provider or customer, with a chart) and CSV exports."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from smmpanel.clock import utcnow
from smmpanel.db.breakdown_repositories import BreakdownBy
from smmpanel.db.export_repositories import ExportKind
from smmpanel.domain.periods import DayRange, day_range
from smmpanel.domain.roles import Permission
from smmpanel.errors import Refused
from smmpanel.money import format_amount
from smmpanel.usecases import exports, reports
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.charts import counts
from smmpanel.web.admin.common import show
from smmpanel.web.security import context_of

DEFAULT_DAYS = 30
FILTERS = ("by", "from", "to")


def _days(request: Request) -> DayRange:
    """The typed range; blanks mean the last 30 days up to today (UTC)."""
    params = request.query_params
    return day_range(params.get("from", ""), params.get("to", ""), default_days=DEFAULT_DAYS, today=utcnow().date())


def _kept(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip() for name in FILTERS}


def _refused(request: Request, refused: Refused) -> Response:
    """The report's form again, as typed, with what was wrong."""
    values = {"filters": _kept(request), "groups": list(BreakdownBy), "kinds": list(ExportKind)}
    user = staff_user(request)
    return show(request, "admin/reports.html", user, status_code=400, error=refused.message, figures=None, **values)


async def report(request: Request) -> Response:
    user = staff_user(request)
    kept = _kept(request)
    values: dict[str, Any] = {"groups": list(BreakdownBy), "kinds": list(ExportKind)}
    try:
        days = _days(request)
        figures = await reports.breakdown(context_of(request).database, reports.breakdown_by(kept["by"]), days)
    except Refused as refused:
        return _refused(request, refused)
    currency = context_of(request).settings.currency
    chart = counts(
        {row.name or "(manual)": row.charged for row in figures.rows[:12]},
        f"Charged per {figures.by.value} ({currency})",
        width=560,
        text=format_amount,
        left=150,
    )
    values["filters"] = {**kept, "by": figures.by.value, "from": str(days.first), "to": str(days.last)}
    return show(request, "admin/reports.html", user, figures=figures, chart=chart, **values)


async def export(request: Request) -> Response:
    """A CSV file of one kind of record over the range, streamed as it is read."""
    staff_user(request)
    try:
        kind = exports.export_kind(request.query_params.get("kind") or ExportKind.ORDERS)
        days = _days(request)
        pieces = exports.export_csv(context_of(request).database, kind, days)
    except Refused as refused:
        return _refused(request, refused)
    filename = exports.export_filename(kind, days)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(pieces, media_type="text/csv; charset=utf-8", headers=headers)


routes = [
    AdminRoute("/admin/reports", report, Permission.REPORTS, methods=["GET"]),
    AdminRoute("/admin/reports/export", export, Permission.REPORTS, methods=["GET"]),
]
