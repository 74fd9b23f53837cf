"""Providers: their live balances, adding and editing them (the key only ever shown masked), testing."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.provider_repositories import Provider
from smmpanel.db.repositories import Customer
from smmpanel.domain.durations import format_duration, parse_duration
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.money import format_amount
from smmpanel.usecases import outages, providers
from smmpanel.usecases.audit import record
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, form_values, path_id, provider_pool, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of


async def _list(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    async with provider_pool(request, quick=True) as pool:
        views = await providers.list_providers(context_of(request).database, pool)
    return show(request, "admin/providers.html", user, status_code=status_code, views=views, **values)


async def provider_list(request: Request) -> Response:
    return await _list(request, staff_user(request))


async def add_provider(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    name = form_text(form, "name").strip()
    try:
        await providers.add_provider(
            context_of(request).database,
            name,
            form_text(form, "url").strip(),
            form_text(form, "key"),
            audit=acting(user),
        )
    except Refused as refused:
        values = {k: v for k, v in form_values(form).items() if k != "key"}  # a key is never sent back
        return await _list(request, user, status_code=400, error=refused.message, form=values)
    return redirect("/admin/providers", Phrase("Provider %(name)s added.", name=name), request)


async def _provider(request: Request) -> Provider:
    try:
        return await providers.provider_by_id(context_of(request).database, path_id(request))
    except NotFound:
        raise PageNotFound from None


async def edit_provider(request: Request) -> Response:
    user = staff_user(request)
    provider = await _provider(request)
    default_limit = format_duration(int(context_of(request).settings.outage_limit))
    if request.method == "GET":
        limit = "" if provider.outage_limit is None else format_duration(provider.outage_limit)
        values = {"url": provider.url, "outage_limit": limit}
        return show(
            request, "admin/provider.html", user, provider=provider, form=values, default_outage_limit=default_limit
        )
    form = await checked_form(request)
    key = form_text(form, "key")
    limit_text = form_text(form, "outage_limit").strip()
    try:
        try:
            outage_limit = parse_duration(limit_text) if limit_text else None
        except ValueError as error:
            raise Refused("Outage limit: %(error)s", error=error) from None
        await providers.update_provider(
            context_of(request).database,
            provider.name,
            url=form_text(form, "url").strip(),
            api_key=key if key.strip() else None,
            audit=acting(user),
        )
        await outages.set_outage_limit(context_of(request).database, provider.name, outage_limit, audit=acting(user))
    except Refused as refused:
        values = {"url": form_text(form, "url"), "outage_limit": limit_text}
        return show(
            request,
            "admin/provider.html",
            user,
            status_code=400,
            error=refused.message,
            provider=provider,
            form=values,
            default_outage_limit=default_limit,
        )
    return redirect(
        "/admin/providers", Phrase("Provider %(provider_name)s saved.", provider_name=provider.name), request
    )


async def cancel_waiting(request: Request) -> Response:
    """The operator's one click for an outage: every order waiting for the provider, canceled and refunded."""
    user = staff_user(request)
    await checked_form(request)
    provider = await _provider(request)
    canceled = await outages.cancel_waiting(context_of(request).database, provider.name, audit=acting(user))
    notice = Phrase(
        "%(canceled)s orders waiting for %(provider_name)s canceled and refunded.",
        canceled=canceled,
        provider_name=provider.name,
    )
    return redirect("/admin/attention", notice, request)


async def test_provider(request: Request) -> Response:
    """Ask for the balance now; a failure shows the provider's (or the network's) own words."""
    user = staff_user(request)
    await checked_form(request)
    provider = await _provider(request)
    try:
        async with provider_pool(request, quick=False) as pool:
            balance, currency = await providers.check_connection(context_of(request).database, pool, provider.name)
    except Refused as refused:
        return await _list(request, user, status_code=502, error=f"{provider.name}: {refused.message}")
    return redirect(
        "/admin/providers", f"{provider.name} answered: balance {format_amount(balance)} {currency}.", request
    )


async def remove_provider(request: Request) -> Response:
    user = staff_user(request)
    await checked_form(request)
    provider = await _provider(request)
    try:
        await providers.remove_provider(context_of(request).database, provider.name)
    except Refused as refused:
        return await _list(request, user, status_code=400, error=refused.message)
    await record(context_of(request).database, acting(user), "provider.remove", f"provider {provider.name}", None, None)
    return redirect(
        "/admin/providers", Phrase("Provider %(provider_name)s removed.", provider_name=provider.name), request
    )


routes = [
    AdminRoute("/admin/providers", provider_list, Permission.PROVIDERS, methods=["GET"]),
    AdminRoute("/admin/providers", add_provider, Permission.PROVIDERS, methods=["POST"]),
    AdminRoute("/admin/providers/{id:int}", edit_provider, Permission.PROVIDERS, methods=["GET", "POST"]),
    AdminRoute("/admin/providers/{id:int}/test", test_provider, Permission.PROVIDERS, methods=["POST"]),
    AdminRoute("/admin/providers/{id:int}/remove", remove_provider, Permission.PROVIDERS, methods=["POST"]),
    AdminRoute("/admin/providers/{id:int}/cancel-waiting", cancel_waiting, Permission.REFUNDS, methods=["POST"]),
]
