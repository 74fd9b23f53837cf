"""The operator's settings page: one card per section, each its own form posting to its own address.

Sections: the panel (name, colours, theme, signup, time zone, contact and terms texts), images
(logo, favicon), invites (``invites.py``), the default language (``language_settings.py``) and funds
(the funds text, the low-balance alarm).
Another section is a template under ``admin/settings/`` included by ``admin/settings.html``
plus, when it needs values, a loader in ``SECTION_LOADERS`` (its name → values for the page).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.unit_of_work import Database
from smmpanel.domain.roles import Permission
from smmpanel.errors import Refused
from smmpanel.i18n import N_
from smmpanel.money import format_amount
from smmpanel.usecases import audit, branding, languages, reports, settings, signup
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_amount, form_text, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of

PAGE = "/admin/settings"
SectionLoader = Callable[[Database], Awaitable[dict[str, Any]]]


async def _funds_values(db: Database) -> dict[str, Any]:
    return {
        "funds_instructions": await settings.get_funds_instructions(db),
        "low_balance": format_amount(await reports.low_balance_threshold(db)),
    }


async def _panel_values(db: Database) -> dict[str, Any]:
    return branding.stored_values(await branding.current(db))


async def _invite_values(db: Database) -> dict[str, Any]:
    return {"invites": await signup.list_invites(db)}


async def _language_values(db: Database) -> dict[str, Any]:
    """The language section posts to its own address (``language_settings.py``)."""
    return {"default_language": await languages.default_language(db)}


SECTION_LOADERS: dict[str, SectionLoader] = {
    "funds": _funds_values,
    "panel": _panel_values,
    "invites": _invite_values,
    "language": _language_values,
}


async def settings_page(
    request: Request, *, status_code: int = 200, error: str | None = None, typed: dict[str, str] | None = None
) -> Response:
    """The whole page; after a refusal, the section's fields hold what was typed."""
    db = context_of(request).database
    values: dict[str, Any] = {}
    for load in SECTION_LOADERS.values():
        values.update(await load(db))
    values.update(typed or {})
    user = staff_user(request)
    return show(request, "admin/settings.html", user, status_code=status_code, error=error, form=values)


async def panel_settings(request: Request) -> Response:
    if request.method == "GET":
        return await settings_page(request)
    user = staff_user(request)
    db = context_of(request).database
    form = await checked_form(request)
    text = form_text(form, "funds_instructions")
    try:
        threshold = form_amount(form, "low_balance", "Low balance threshold")
        await reports.set_low_balance_threshold(db, threshold, audit=acting(user))
        before = await settings.get_funds_instructions(db)
        await settings.set_funds_instructions(db, text)
        after = await settings.get_funds_instructions(db)
        if after != before:
            # settings.set_setting takes no audit, so the entry follows in its own transaction.
            name = f"setting {settings.FUNDS_INSTRUCTIONS}"
            await audit.record(db, acting(user), "setting.update", name, {"value": before}, {"value": after})
    except Refused as refused:
        typed = {"funds_instructions": text, "low_balance": form_text(form, "low_balance")}
        return await settings_page(request, status_code=400, error=refused.message, typed=typed)
    return redirect(PAGE, "Settings saved.", request)


async def branding_settings(request: Request) -> Response:
    """Name, colours, theme, signup mode, time zone, contact and terms: all checked, then stored at once."""
    user = staff_user(request)
    form = await checked_form(request)
    typed = {name: form_text(form, name) for name in branding.FIELDS}
    try:
        await branding.update(context_of(request).database, typed, audit=acting(user))
    except Refused as refused:
        return await settings_page(request, status_code=400, error=refused.message, typed=typed)
    return redirect(PAGE, "Settings saved.", request)


async def upload_image(request: Request) -> Response:
    """A logo or favicon; checked by its bytes (``smmpanel.domain.branding.image_type``)."""
    user = staff_user(request)
    form = await checked_form(request, max_files=1)
    kind = form_text(form, "kind")
    upload = form.get("image")
    try:
        if kind not in branding.IMAGES:
            raise Refused("Choose what to upload: the logo or the favicon")
        data = await upload.read() if isinstance(upload, UploadFile) else b""
        await branding.save_image(context_of(request).database, kind, data, audit=acting(user))
    except Refused as refused:
        return await settings_page(request, status_code=400, error=refused.message)
    finally:
        await form.close()
    return redirect(PAGE, N_("The logo is saved.") if kind == "logo" else N_("The favicon is saved."), request)


async def remove_image(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    kind = form_text(form, "kind")
    if kind in branding.IMAGES:
        await branding.remove_image(context_of(request).database, kind, audit=acting(user))
    return redirect(PAGE, "Back to the built-in look.", request)


routes = [
    AdminRoute(PAGE, panel_settings, Permission.SETTINGS, methods=["GET", "POST"]),
    AdminRoute(f"{PAGE}/panel", branding_settings, Permission.SETTINGS, methods=["POST"]),
    AdminRoute(f"{PAGE}/images", upload_image, Permission.SETTINGS, methods=["POST"]),
    AdminRoute(f"{PAGE}/images/remove", remove_image, Permission.SETTINGS, methods=["POST"]),
]
