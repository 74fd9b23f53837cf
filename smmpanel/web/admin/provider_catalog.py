"""A provider's catalog upkeep: its currency and exchange rate, sync interval, "sync now", and what syncs changed."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.provider_repositories import Provider
from smmpanel.db.repositories import Customer
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.i18n import N_
from smmpanel.usecases import catalog_sync, providers
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, form_values, path_id, provider_pool, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of


async def provider_of(request: Request) -> Provider:
    """The provider named by the address, or the page is not found."""
    try:
        return await providers.provider_by_id(context_of(request).database, path_id(request))
    except NotFound:
        raise PageNotFound from None


async def _page(
    request: Request, user: Customer, provider: Provider, *, status_code: int = 200, **values: Any
) -> Response:
    db = context_of(request).database
    billing = await catalog_sync.billing_of(db, provider.id)
    changes = await catalog_sync.provider_changes(db, provider.name)
    values.setdefault("updates_on", await catalog_sync.public_updates(db, limit=1) is not None)
    form = values.pop("form", None) or {
        "currency": billing.currency or "",
        "rate": billing.exchange_rate,
        "sync_minutes": billing.sync_minutes or "",
    }
    return show(
        request,
        "admin/provider_catalog.html",
        user,
        status_code=status_code,
        provider=provider,
        billing=billing,
        changes=changes,
        form=form,
        **values,
    )


async def provider_catalog(request: Request) -> Response:
    user = staff_user(request)
    provider = await provider_of(request)
    if request.method == "GET":
        return await _page(request, user, provider)
    form = await checked_form(request)
    minutes = form_text(form, "sync_minutes").strip()
    try:
        if minutes and not minutes.isdigit():
            raise Refused("sync interval must be a whole number of minutes")
        await catalog_sync.set_billing(
            context_of(request).database,
            provider.name,
            currency=form_text(form, "currency") or None,
            exchange_rate=form_text(form, "rate") or None,
            sync_minutes=int(minutes) if minutes.isdigit() else None,
            no_sync=not minutes,
            audit=acting(user),
        )
    except Refused as refused:
        return await _page(request, user, provider, status_code=400, error=refused.message, form=form_values(form))
    return redirect(
        f"/admin/providers/{provider.id}/catalog",
        Phrase("%(provider_name)s: billing and sync saved.", provider_name=provider.name),
        request,
    )


async def sync_now(request: Request) -> Response:
    user = staff_user(request)
    await checked_form(request)
    provider = await provider_of(request)
    try:
        async with provider_pool(request, quick=False) as pool:
            changes = await catalog_sync.sync_catalog(context_of(request).database, pool, provider.name)
    except Refused as refused:
        return await _page(request, user, provider, status_code=502, error=refused.message)
    return redirect(
        f"/admin/providers/{provider.id}/catalog", Phrase("Synced: %(changes)s changes.", changes=len(changes)), request
    )


async def updates_page(request: Request) -> Response:
    """Switch the customers' Updates page (/updates) on or off, for the whole panel."""
    user = staff_user(request)
    form = await checked_form(request)
    provider = await provider_of(request)
    on = form_text(form, "on") == "1"
    await catalog_sync.set_updates_page(context_of(request).database, on, audit=acting(user))
    notice = N_("The customers' Updates page is on: /updates.") if on else N_("The customers' Updates page is off.")
    return redirect(f"/admin/providers/{provider.id}/catalog", notice, request)


routes = [
    AdminRoute("/admin/providers/{id:int}/updates-page", updates_page, Permission.PROVIDERS, methods=["POST"]),
    AdminRoute("/admin/providers/{id:int}/catalog", provider_catalog, Permission.PROVIDERS, methods=["GET", "POST"]),
    AdminRoute("/admin/providers/{id:int}/sync", sync_now, Permission.PROVIDERS, methods=["POST"]),
]
