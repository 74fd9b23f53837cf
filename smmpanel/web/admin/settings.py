"""Panel settings the operator writes: the funds instructions customers read, the low-balance alarm."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.domain.roles import Permission
from smmpanel.errors import Refused
from smmpanel.money import format_amount
from smmpanel.usecases import audit, languages, reports, settings
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_amount, form_text, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of


async def panel_settings(request: Request) -> Response:
    user = staff_user(request)
    db = context_of(request).database
    default_language = await languages.default_language(db)  # its own form: admin/_settings_language.html
    if request.method == "GET":
        values = {
            "funds_instructions": await settings.get_funds_instructions(db),
            "low_balance": format_amount(await reports.low_balance_threshold(db)),
        }
        return show(request, "admin/settings.html", user, form=values, default_language=default_language)
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
        values = {"funds_instructions": text, "low_balance": form_text(form, "low_balance")}
        page = {"form": values, "default_language": default_language}
        return show(request, "admin/settings.html", user, status_code=400, error=refused.message, **page)
    return redirect("/admin/settings", "Settings saved.", request)


routes = [AdminRoute("/admin/settings", panel_settings, Permission.SETTINGS, methods=["GET", "POST"])]
