"""Import with a preview: the provider's catalog as a table, priced as it would be imported, to pick from.

The filter form (search, category, markup, rounding) is a GET, so the preview's address keeps
the operator's choices; the table's checkboxes post the selection to the import itself.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.provider_repositories import Provider
from smmpanel.db.repositories import Customer
from smmpanel.domain.roles import Permission
from smmpanel.domain.upstream_cost import Rounding
from smmpanel.errors import Phrase, Refused
from smmpanel.providers.apiv2_client import UpstreamError
from smmpanel.usecases import providers
from smmpanel.usecases.import_preview import preview_catalog
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import (
    acting,
    form_amount,
    form_ids,
    form_text,
    form_values,
    import_notice,
    provider_pool,
    show,
)
from smmpanel.web.admin.provider_catalog import provider_of
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of


def _rounding(form: FormData) -> Rounding:
    try:
        return Rounding(form_text(form, "rounding") or Rounding.EXACT.value)
    except ValueError:
        raise Refused("Rounding: choose 2, 3 or 5 decimals, or a price ending in 9") from None


async def _page(
    request: Request, user: Customer, provider: Provider, form: FormData, *, status_code: int = 200, **values: Any
) -> Response:
    preview = None
    error = values.pop("error", None)
    try:
        async with provider_pool(request, quick=False) as pool:
            preview = await preview_catalog(
                context_of(request).database,
                pool,
                provider.name,
                markup=form_amount(form, "markup", "Percent markup", blank=0),
                fixed=form_amount(form, "fixed", "Fixed markup", blank=0),
                rounding=_rounding(form),
                search=form_text(form, "q"),
                category=form_text(form, "in_category"),
            )
    except Refused as refused:
        error, status_code = refused.message, 400
    except UpstreamError as upstream:  # the page still opens, saying why the provider's catalog is missing
        error = f"{provider.name} could not be reached for its catalog: {upstream}"
    return show(
        request,
        "admin/import_preview.html",
        user,
        status_code=status_code,
        provider=provider,
        preview=preview,
        roundings=list(Rounding),
        error=error,
        form=form_values(form),
        selected=set(form_ids(form, "only")),
        **values,
    )


async def import_preview(request: Request) -> Response:
    user = staff_user(request)
    provider = await provider_of(request)
    if request.method == "GET":
        return await _page(request, user, provider, FormData(request.query_params))
    form = await checked_form(request)
    selected = set(form_ids(form, "only"))
    try:
        if not selected:
            raise Refused("Select at least one service to import")
        async with provider_pool(request, quick=False) as pool:
            report = await providers.import_catalog(
                context_of(request).database,
                pool,
                provider.name,
                markup=form_amount(form, "markup", "Percent markup", blank=0),
                fixed=form_amount(form, "fixed", "Fixed markup", blank=0),
                category=form_text(form, "category").strip() or None,
                only=selected,
                rounding=_rounding(form),
                audit=acting(user),
            )
    except (Refused, UpstreamError) as refusal:
        message = refusal.message if isinstance(refusal, Refused) else str(refusal)
        return await _page(request, user, provider, form, status_code=400, error=message)
    notice = Phrase(
        "Imported: %(created)s created, %(updated)s updated.", created=len(report.created), updated=len(report.updated)
    )
    return redirect("/admin/services", import_notice(notice, report), request)


routes = [AdminRoute("/admin/providers/{id:int}/import", import_preview, Permission.CATALOG, methods=["GET", "POST"])]
