"""Display currencies on the dashboard: add, change, remove, and the default customers read prices in."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Refused
from smmpanel.i18n import N_
from smmpanel.usecases import currencies
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, form_values, form_whole, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of

PAGE = "/admin/currencies"


async def _page(
    request: Request,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    editing: dict[str, str] | None = None,
) -> Response:
    """The list and the add form; ``form`` refills the add form, ``editing`` the row whose change was refused."""
    db = context_of(request).database
    listing = await currencies.list_currencies(db)
    panel = currencies.panel_currency(context_of(request).settings.currency)
    return show(
        request,
        "admin/currencies.html",
        staff_user(request),
        status_code=400 if error else 200,
        error=error,
        form=form or {},
        editing=editing or {},
        listing=listing,
        panel=panel,
        default=next((c.code for c in listing if c.is_default), panel.code),
    )


def _decimals(form: FormData) -> int:
    return form_whole(form, "decimals", "Decimals", blank=2)


async def currencies_page(request: Request) -> Response:
    if request.method == "GET":
        return await _page(request)
    form = await checked_form(request)
    context = context_of(request)
    try:
        added = await currencies.add_currency(
            context.database,
            form_text(form, "code"),
            symbol=form_text(form, "symbol"),
            decimals=_decimals(form),
            rate=form_text(form, "rate"),
            panel_code=context.settings.currency,
            audit=acting(staff_user(request)),
        )
    except Refused as refused:
        return await _page(request, error=refused.message, form=form_values(form))
    return redirect(PAGE, "Currency %(code)s added.", request, code=added.code)


async def update(request: Request) -> Response:
    form = await checked_form(request)
    code = form_text(form, "code")
    try:
        await currencies.update_currency(
            context_of(request).database,
            code,
            symbol=form_text(form, "symbol"),
            decimals=_decimals(form),
            rate=form_text(form, "rate"),
            audit=acting(staff_user(request)),
        )
    except (Refused, NotFound) as problem:  # that row shows again with what was typed
        return await _page(request, error=_message(problem), editing=form_values(form))
    return redirect(PAGE, "Currency %(code)s saved.", request, code=code.strip().upper())


async def remove(request: Request) -> Response:
    form = await checked_form(request)
    code = form_text(form, "code")
    try:
        await currencies.remove_currency(context_of(request).database, code, audit=acting(staff_user(request)))
    except NotFound as problem:
        return await _page(request, error=_message(problem))
    return redirect(PAGE, "Currency %(code)s removed.", request, code=code.strip().upper())


async def make_default(request: Request) -> Response:
    form = await checked_form(request)
    code, context = form_text(form, "code"), context_of(request)
    try:
        await currencies.set_default(
            context.database, code, panel_code=context.settings.currency, audit=acting(staff_user(request))
        )
    except NotFound as problem:
        return await _page(request, error=_message(problem))
    notice = N_("Prices are now shown in %(code)s unless a customer picks another.")
    return redirect(PAGE, notice, request, code=code.strip().upper())


def _message(problem: Refused | NotFound) -> str:
    return problem.message if isinstance(problem, Refused) else str(problem)


routes = [
    AdminRoute(PAGE, currencies_page, Permission.SETTINGS, methods=["GET", "POST"]),
    AdminRoute(f"{PAGE}/update", update, Permission.SETTINGS, methods=["POST"]),
    AdminRoute(f"{PAGE}/remove", remove, Permission.SETTINGS, methods=["POST"]),
    AdminRoute(f"{PAGE}/default", make_default, Permission.SETTINGS, methods=["POST"]),
]
