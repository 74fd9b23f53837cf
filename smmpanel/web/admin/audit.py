"""The audit log, newest first, a page at a time; narrowed by who, what and when (GET filters)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.audit_repository import AuditFilters
from smmpanel.domain.periods import day_range
from smmpanel.domain.roles import Permission
from smmpanel.errors import Refused
from smmpanel.usecases import staff
from smmpanel.usecases.audit import audit_page
from smmpanel.usecases.paging import Page
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import query_id, show
from smmpanel.web.pages import pager_urls
from smmpanel.web.security import context_of

FILTERS = ("who", "what", "from", "to")


async def audit_log(request: Request) -> Response:
    user = staff_user(request)
    db = context_of(request).database
    kept = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    members = [member.user.username for member in await staff.list_staff(db)]
    try:
        days = day_range(kept["from"], kept["to"])
    except Refused as refused:
        empty: Page[object] = Page()
        values = {"page": empty, "links": {}, "filters": kept, "members": members}
        return show(request, "admin/audit.html", user, status_code=400, error=refused.message, **values)
    filters = AuditFilters(actor=kept["who"], action=kept["what"], since=days.since, until=days.until)
    page = await audit_page(db, before=query_id(request, "before"), after=query_id(request, "after"), filters=filters)
    links = pager_urls("/admin/audit", page, kept)
    return show(request, "admin/audit.html", user, page=page, links=links, filters=kept, members=members)


routes = [AdminRoute("/admin/audit", audit_log, Permission.AUDIT, methods=["GET"])]
