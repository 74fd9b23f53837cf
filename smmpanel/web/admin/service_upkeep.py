"""A service's upkeep from its page: its loss rule, and unlinking a provider (manual fulfilment)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.domain.roles import Permission
from smmpanel.domain.upstream_cost import LossRule
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.usecases import catalog_sync
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, form_whole, path_id
from smmpanel.web.pages import redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of


async def set_loss_rule(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    service_id = path_id(request)
    try:
        rule = LossRule(form_text(form, "rule"))
        await catalog_sync.set_loss_rule(context_of(request).database, service_id, rule, audit=acting(user))
    except ValueError:
        return redirect(f"/admin/services/{service_id}", "Choose raise, disable or flag.", request)
    except NotFound:
        raise PageNotFound from None
    return redirect(f"/admin/services/{service_id}", Phrase("Loss rule: %(value)s.", value=rule.value), request)


async def unlink(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    service_id = path_id(request)
    try:
        provider_id = form_whole(form, "provider_id", "Provider")
        await catalog_sync.unlink_service(context_of(request).database, service_id, provider_id, audit=acting(user))
    except (NotFound, Refused):
        raise PageNotFound from None
    return redirect(f"/admin/services/{service_id}", "Unlinked.", request)


routes = [
    AdminRoute("/admin/services/{id:int}/loss-rule", set_loss_rule, Permission.CATALOG, methods=["POST"]),
    AdminRoute("/admin/services/{id:int}/unlink", unlink, Permission.CATALOG, methods=["POST"]),
]
