"""The audit log, newest first, a page at a time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.domain.roles import Permission
from smmpanel.usecases.audit import audit_page
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import query_id, show
from smmpanel.web.pages import pager_urls
from smmpanel.web.security import context_of


async def audit_log(request: Request) -> Response:
    user = staff_user(request)
    page = await audit_page(
        context_of(request).database, before=query_id(request, "before"), after=query_id(request, "after")
    )
    return show(request, "admin/audit.html", user, page=page, links=pager_urls("/admin/audit", page, {}))


routes = [AdminRoute("/admin/audit", audit_log, Permission.AUDIT, methods=["GET"])]
