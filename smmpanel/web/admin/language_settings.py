"""The settings page's language section (``admin/settings/_language.html``): the panel's default language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel import i18n
from smmpanel.domain.roles import Permission
from smmpanel.errors import Refused
from smmpanel.usecases import languages
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of


async def default_language(request: Request) -> Response:
    """The settings page's language section: the panel's default for everyone who chose none."""
    user = staff_user(request)
    form = await checked_form(request)
    db = context_of(request).database
    try:
        code = await languages.set_default_language(db, form_text(form, "default_language"), audit=acting(user))
    except Refused as refused:
        return redirect("/admin/settings", refused.message, request)
    name = i18n.LANGUAGES[code].name
    return redirect("/admin/settings", "Default language saved: %(name)s.", request, name=name)


routes = [AdminRoute("/admin/settings/language", default_language, Permission.SETTINGS, methods=["POST"])]
