"""Admin API keys on the dashboard: list, create (the key is shown once), revoke."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.usecases import admin_keys
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, form_values, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of


async def _page(request: Request, user: Customer, *, status_code: int = 200, **values: object) -> Response:
    keys = await admin_keys.list_keys(context_of(request).database)
    values.setdefault("created", None)
    return show(
        request, "admin/api_keys.html", user, status_code=status_code, keys=keys, roles=admin_keys.ROLES, **values
    )


async def key_list(request: Request) -> Response:
    return await _page(request, staff_user(request))


async def key_create(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    name, role = form_text(form, "name").strip(), form_text(form, "role") or admin_keys.DEFAULT_ROLE
    try:
        created = await admin_keys.create_key(context_of(request).database, name, role, audit=acting(user))
    except Refused as refused:
        return await _page(request, user, status_code=400, error=refused.message, form=form_values(form))
    return await _page(request, user, created=created)


async def key_revoke(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    name = form_text(form, "name")
    try:
        await admin_keys.revoke_key(context_of(request).database, name, audit=acting(user))
    except NotFound as missing:
        return await _page(request, user, status_code=400, error=str(missing))
    return redirect("/admin/api-keys", Phrase("Admin API key %(name)s revoked.", name=name), request)


routes = [
    AdminRoute("/admin/api-keys", key_list, Permission.STAFF, methods=["GET"]),
    AdminRoute("/admin/api-keys/create", key_create, Permission.STAFF, methods=["POST"]),
    AdminRoute("/admin/api-keys/revoke", key_revoke, Permission.STAFF, methods=["POST"]),
]
