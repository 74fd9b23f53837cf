"""Services and categories: create, edit, switch on and off, reorder, reprice in bulk, import."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.i18n import N_
from smmpanel.money import format_amount
from smmpanel.providers.apiv2_client import UpstreamError
from smmpanel.usecases import catalog, providers
from smmpanel.usecases.audit import record
from smmpanel.usecases.catalog_desk import ServiceView, all_providers, service_costs, service_view
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import (
    acting,
    form_amount,
    form_ids,
    form_text,
    form_values,
    form_whole,
    import_notice,
    path_id,
    provider_pool,
    show,
)
from smmpanel.web.pages import redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of

FLAGS = ("refill", "cancel", "enabled", "deny_duplicate_link", "price_locked")


def _changes(form: FormData) -> catalog.ServiceChanges:
    try:
        kind = ServiceType(form_text(form, "type"))
    except ValueError:
        raise Refused("Choose a service type") from None
    return catalog.ServiceChanges(
        name=form_text(form, "name").strip(),
        category=form_text(form, "category").strip(),
        type=kind,
        rate=form_amount(form, "rate", "Rate"),
        min=form_whole(form, "min", "Min"),
        max=form_whole(form, "max", "Max"),
        description=form_text(form, "description").replace("\r\n", "\n").strip(),
        refill_days=form_whole(form, "refill_days", "Refill window"),
        position=form_whole(form, "position", "Position"),
        **{flag: form_text(form, flag) == "1" for flag in FLAGS},
    )


def _values(service: Service | None) -> dict[str, str]:
    """A service's terms as the form shows them."""
    if service is None:
        return {
            "type": ServiceType.DEFAULT.value,
            "min": "1",
            "max": "10000",
            "refill_days": "30",
            "position": "0",
            "enabled": "1",
        }
    values = {
        "name": service.name,
        "category": service.category,
        "type": service.type.value,
        "rate": format_amount(service.rate),
        "min": str(service.min),
        "max": str(service.max),
        "description": service.description,
        "refill_days": str(service.refill_days),
        "position": str(service.position),
    }
    values.update({flag: "1" for flag in FLAGS if getattr(service, flag)})
    return values


def _matches(service: Service, query: str) -> bool:
    return not query or query == str(service.id) or query.lower() in service.name.lower()


async def _list(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    """The catalog by category, with each service's provider, cost and margin; ``?q=`` keeps id or name matches."""
    db = context_of(request).database
    query = values.pop("query", None) or request.query_params.get("q", "").strip()
    groups = [
        (category, found)
        for category, listing in await catalog.catalog_by_category(db)
        if (found := [service for service in listing if _matches(service, query)])
    ]
    names = Counter(service.name for _, listing in groups for service in listing)
    return show(
        request,
        "admin/services.html",
        user,
        status_code=status_code,
        groups=groups,
        costs=await service_costs(db),
        twins={name for name, count in names.items() if count > 1},
        query=query,
        **values,
    )


BULK = {
    "enable": N_("%(changed)s services switched on."),
    "disable": N_("%(changed)s services switched off."),
    "move": N_("%(changed)s services moved."),
}


async def bulk_action(request: Request) -> Response:
    """On, off, or to a category, for the selected services; back to the same search, at the first of them."""
    user = staff_user(request)
    form = await checked_form(request)
    action, ids, query = form_text(form, "action"), form_ids(form, "ids"), form_text(form, "q").strip()
    try:
        if action not in BULK:
            raise Refused("Choose switch on, switch off or move")
        changes = (
            catalog.ServiceChanges(category=form_text(form, "category").strip())
            if action == "move"
            else catalog.ServiceChanges(enabled=action == "enable")
        )
        changed = await catalog.bulk_update(context_of(request).database, ids, changes, audit=acting(user))
    except (Refused, NotFound) as refusal:
        message = refusal.message if isinstance(refusal, Refused) else str(refusal)
        values = form_values(form)
        return await _list(request, user, status_code=400, error=message, form=values, chosen=set(ids), query=query)
    back = "/admin/services" + (f"?{urlencode({'q': query})}" if query else "")
    return redirect(f"{back}#service-{min(ids)}", Phrase(BULK[action], changed=changed), request)


async def service_list(request: Request) -> Response:
    return await _list(request, staff_user(request))


async def bulk_rate(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    try:
        percent = form_amount(form, "percent", "Percent")
        if percent <= 0:
            raise Refused("Percent: write how much, e.g. 10; choose up or down below")
        signed = -percent if form_text(form, "direction") == "down" else percent
        result = await catalog.change_rates(
            context_of(request).database, form_ids(form, "ids"), signed, audit=acting(user)
        )
    except (Refused, NotFound) as refusal:
        message = refusal.message if isinstance(refusal, Refused) else str(refusal)
        chosen = set(form_ids(form, "ids"))
        return await _list(request, user, status_code=400, error=message, form=form_values(form), chosen=chosen)
    notice = Phrase("Rates changed on %(changed)s services.", changed=len(result.changed))
    if result.locked:
        locked = ", ".join(f"#{i}" for i in result.locked)
        template = N_("Rates changed on %(changed)s services. Skipped %(count)s price-locked: %(locked)s.")
        notice = Phrase(template, changed=len(result.changed), count=len(result.locked), locked=locked)
    return redirect("/admin/services", notice, request)


async def set_enabled(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    enabled = form_text(form, "enabled") == "1"
    changes = catalog.ServiceChanges(enabled=enabled)
    try:
        service = await catalog.update_service(
            context_of(request).database, path_id(request), changes, audit=acting(user)
        )
    except NotFound:
        raise PageNotFound from None
    notice = N_("#%(id)s %(name)s is on sale.") if enabled else N_("#%(id)s %(name)s is off sale.")
    return redirect(f"/admin/services#service-{service.id}", notice, request, id=service.id, name=service.name)


async def rename_category(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    old, new = form_text(form, "name"), form_text(form, "new_name")
    try:
        await catalog.rename_category(context_of(request).database, old, new, audit=acting(user))
    except (Refused, NotFound) as refusal:
        message = refusal.message if isinstance(refusal, Refused) else str(refusal)
        return await _list(request, user, status_code=400, error=message, form=form_values(form))
    return redirect("/admin/services", Phrase("Category %(old)s is now %(new)s.", old=old, new=new.strip()), request)


async def hide_category(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    name, hidden = form_text(form, "name"), form_text(form, "hidden") == "1"
    try:
        await catalog.hide_category(context_of(request).database, name, hidden, audit=acting(user))
    except NotFound as missing:
        return await _list(request, user, status_code=400, error=str(missing))
    return redirect(
        "/admin/services",
        Phrase(N_("Category %(name)s is hidden.") if hidden else N_("Category %(name)s is shown."), name=name),
        request,
    )


def _step(form: FormData) -> int:
    return -1 if form_text(form, "step") == "up" else 1


async def move_service(request: Request) -> Response:
    form = await checked_form(request)
    db, service_id = context_of(request).database, path_id(request)
    try:
        await catalog.move_service(db, service_id, _step(form))
    except NotFound:
        raise PageNotFound from None
    facts = {"step": _step(form)}
    await record(db, acting(staff_user(request)), "service.move", f"service {service_id}", None, facts)
    return redirect("/admin/services")


async def move_category(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    try:
        await catalog.move_category(context_of(request).database, form_text(form, "name"), _step(form))
    except NotFound as missing:
        return await _list(request, user, status_code=400, error=str(missing))
    target = f"category {form_text(form, 'name')}"
    await record(context_of(request).database, acting(user), "category.move", target, None, {"step": _step(form)})
    return redirect("/admin/services")


async def new_service(request: Request) -> Response:
    user = staff_user(request)
    if request.method == "GET":
        return show(request, "admin/service_form.html", user, view=None, values=_values(None), types=list(ServiceType))
    form = await checked_form(request)
    try:
        service_id = await catalog.create_service(context_of(request).database, _changes(form), audit=acting(user))
    except Refused as refused:
        values = form_values(form)
        return show(
            request,
            "admin/service_form.html",
            user,
            status_code=400,
            error=refused.message,
            view=None,
            values=values,
            types=list(ServiceType),
        )
    return redirect(
        f"/admin/services/{service_id}", Phrase("Service #%(service_id)s created.", service_id=service_id), request
    )


async def _view(request: Request) -> ServiceView:
    try:
        return await service_view(context_of(request).database, path_id(request))
    except NotFound:
        raise PageNotFound from None


async def edit_service(request: Request) -> Response:
    user = staff_user(request)
    view = await _view(request)
    if request.method == "GET":
        values = _values(view.service)
        return show(request, "admin/service_form.html", user, view=view, values=values, types=list(ServiceType))
    form = await checked_form(request)
    try:
        await catalog.update_service(context_of(request).database, view.service.id, _changes(form), audit=acting(user))
    except Refused as refused:
        values = form_values(form)
        return show(
            request,
            "admin/service_form.html",
            user,
            status_code=400,
            error=refused.message,
            view=view,
            values=values,
            types=list(ServiceType),
        )
    return redirect(f"/admin/services/{view.service.id}", "Service saved.", request)


async def link_provider(request: Request) -> Response:
    user = staff_user(request)
    view = await _view(request)
    form = await checked_form(request)
    try:
        provider_id = form_whole(form, "provider_id", "Provider")
        provider = next((p for p in view.providers if p.id == provider_id), None)
        if provider is None:
            raise Refused("Choose a provider")
        await providers.link_service(
            context_of(request).database,
            view.service.id,
            provider.name,
            form_whole(form, "provider_service", "Provider's service id"),
            form_whole(form, "priority", "Priority", blank=0),
        )
    except (Refused, NotFound) as refusal:
        message = refusal.message if isinstance(refusal, Refused) else str(refusal)
        values = _values(view.service)
        return show(
            request,
            "admin/service_form.html",
            user,
            status_code=400,
            error=message,
            view=view,
            values=values,
            types=list(ServiceType),
            link_form=form_values(form),
        )
    facts = {"provider": provider.name, "provider_service": form_text(form, "provider_service")}
    await record(context_of(request).database, acting(user), "service.link", f"service {view.service.id}", None, facts)
    return redirect(
        f"/admin/services/{view.service.id}",
        Phrase("Linked to %(provider_name)s.", provider_name=provider.name),
        request,
    )


async def import_catalog(request: Request) -> Response:
    user = staff_user(request)
    db = context_of(request).database
    known = await all_providers(db)
    if request.method == "GET":
        return show(request, "admin/import.html", user, providers=known)
    form = await checked_form(request)
    try:
        only_text = form_text(form, "only").strip()
        only = {int(part) for part in only_text.split(",") if part.strip().isdigit()} if only_text else None
        async with provider_pool(request, quick=False) as pool:
            report = await providers.import_catalog(
                db,
                pool,
                form_text(form, "provider"),
                markup=form_amount(form, "markup", "Percent markup", blank=0),
                fixed=form_amount(form, "fixed", "Fixed markup", blank=0),
                category=form_text(form, "category").strip() or None,
                only=only,
                audit=acting(user),
            )
    except (Refused, NotFound) as refusal:
        message = refusal.message if isinstance(refusal, Refused) else str(refusal)
        return show(
            request, "admin/import.html", user, status_code=400, error=message, providers=known, form=form_values(form)
        )
    except UpstreamError as error:
        return show(
            request,
            "admin/import.html",
            user,
            status_code=502,
            error=str(error),
            providers=known,
            form=form_values(form),
        )
    notice = Phrase(
        "Imported: %(created)s created, %(updated)s updated, %(disabled)s disabled.",
        created=len(report.created),
        updated=len(report.updated),
        disabled=len(report.disabled),
    )
    return redirect("/admin/services", import_notice(notice, report), request)


routes = [
    AdminRoute("/admin/services", service_list, Permission.CATALOG, methods=["GET"]),
    AdminRoute("/admin/services/new", new_service, Permission.CATALOG, methods=["GET", "POST"]),
    AdminRoute("/admin/services/import", import_catalog, Permission.CATALOG, methods=["GET", "POST"]),
    AdminRoute("/admin/services/rates", bulk_rate, Permission.CATALOG, methods=["POST"]),
    AdminRoute("/admin/services/bulk", bulk_action, Permission.CATALOG, methods=["POST"]),
    AdminRoute("/admin/services/{id:int}", edit_service, Permission.CATALOG, methods=["GET", "POST"]),
    AdminRoute("/admin/services/{id:int}/enabled", set_enabled, Permission.CATALOG, methods=["POST"]),
    AdminRoute("/admin/services/{id:int}/move", move_service, Permission.CATALOG, methods=["POST"]),
    AdminRoute("/admin/services/{id:int}/links", link_provider, Permission.CATALOG, methods=["POST"]),
    AdminRoute("/admin/categories/move", move_category, Permission.CATALOG, methods=["POST"]),
    AdminRoute("/admin/categories/rename", rename_category, Permission.CATALOG, methods=["POST"]),
    AdminRoute("/admin/categories/hide", hide_category, Permission.CATALOG, methods=["POST"]),
]
