"""Payment gateways for the operator: add one of any kind (several of a kind are fine), edit it
(secret options shown masked, left unchanged when left blank), enable and disable it."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.payment_repositories import GatewayRecord
from smmpanel.db.repositories import Customer
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.gateways.base import Gateway
from smmpanel.gateways.registry import adapter_class, kinds
from smmpanel.i18n import N_
from smmpanel.usecases import gateways as gateway_cases
from smmpanel.usecases.payments import webhook_path
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_amount, form_text, form_values, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of


def _changes(form: FormData, cls: type[Gateway]) -> gateway_cases.GatewayChanges:
    """The form's fields; blank secret options mean "unchanged", blank others their default."""
    options = {o.name: form_text(form, o.name) for o in cls.options if form_text(form, o.name).strip() or not o.secret}
    maximum = form_amount(form, "max_amount", "Maximum", blank=-1)
    return gateway_cases.GatewayChanges(
        display_name=form_text(form, "display_name") or None,
        min_amount=form_amount(form, "min_amount", "Minimum", blank=0),
        max_amount=None if maximum < 0 else maximum,
        clear_max=maximum < 0,
        fee_percent=form_amount(form, "fee_percent", "Fee percent", blank=0),
        bonus_percent=form_amount(form, "bonus_percent", "Bonus percent", blank=0),
        bonus_from=form_amount(form, "bonus_from", "Bonus from", blank=0),
        instructions=form_text(form, "instructions"),
        options=options,
    )


def _secretless(form: FormData, cls: type[Gateway]) -> dict[str, str]:
    """What was typed, to show the form again: never a secret."""
    secret = {option.name for option in cls.options if option.secret}
    return {name: value for name, value in form_values(form).items() if name not in secret}


async def _list(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    listed = await gateway_cases.list_gateways(context_of(request).database)
    rows = [(gateway, webhook_path(gateway.name)) for gateway in listed]
    values.setdefault("kind", "")  # the kind whose add form was refused, to open it again
    return show(request, "admin/gateways.html", user, status_code=status_code, rows=rows, kinds=kinds(), **values)


async def gateway_list(request: Request) -> Response:
    return await _list(request, staff_user(request))


async def add_gateway(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    kind = form_text(form, "kind")
    try:
        cls = adapter_class(kind)
    except ValueError as error:
        return await _list(request, user, status_code=400, error=str(error))
    try:
        changes = _changes(form, cls)
        gateway = await gateway_cases.add_gateway(
            context_of(request).database,
            kind,
            form_text(form, "name"),
            options=dict(changes.options),
            changes=changes,
            audit=acting(user),
        )
    except Refused as refused:
        return await _list(
            request, user, status_code=400, error=refused.message, form=_secretless(form, cls), kind=kind
        )
    notice = N_("Gateway %(gateway_name)s added. Register %(webhook)s on this panel's address at the gateway.")
    return redirect("/admin/gateways", notice, request, gateway_name=gateway.name, webhook=webhook_path(gateway.name))


async def _gateway(request: Request) -> GatewayRecord:
    try:
        return await gateway_cases.gateway_named(context_of(request).database, str(request.path_params["name"]))
    except NotFound:
        raise PageNotFound from None


async def edit_gateway(request: Request) -> Response:
    user = staff_user(request)
    gateway = await _gateway(request)
    cls = adapter_class(gateway.kind)
    page: dict[str, Any] = {"gateway": gateway, "cls": cls, "options": gateway_cases.shown_options(gateway)}
    if request.method == "GET":
        return show(request, "admin/gateway.html", user, **page)
    form = await checked_form(request)
    try:
        await gateway_cases.update_gateway(
            context_of(request).database, gateway.name, _changes(form, cls), audit=acting(user)
        )
    except Refused as refused:
        typed = _secretless(form, cls)
        return show(request, "admin/gateway.html", user, status_code=400, error=refused.message, form=typed, **page)
    return redirect("/admin/gateways", Phrase("Gateway %(gateway_name)s saved.", gateway_name=gateway.name), request)


async def switch_gateway(request: Request) -> Response:
    user = staff_user(request)
    gateway = await _gateway(request)
    await checked_form(request)
    changes = gateway_cases.GatewayChanges(enabled=not gateway.enabled)
    await gateway_cases.update_gateway(context_of(request).database, gateway.name, changes, audit=acting(user))
    done = N_("Gateway %(gateway_name)s disabled.") if gateway.enabled else N_("Gateway %(gateway_name)s enabled.")
    return redirect("/admin/gateways", Phrase(done, gateway_name=gateway.name), request)


routes = [
    AdminRoute("/admin/gateways", gateway_list, Permission.SETTINGS, methods=["GET"]),
    AdminRoute("/admin/gateways", add_gateway, Permission.SETTINGS, methods=["POST"]),
    AdminRoute("/admin/gateways/{name}", edit_gateway, Permission.SETTINGS, methods=["GET", "POST"]),
    AdminRoute("/admin/gateways/{name}/switch", switch_gateway, Permission.SETTINGS, methods=["POST"]),
]
