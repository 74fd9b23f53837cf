"""Invite links for an invite-only panel: made, listed and withdrawn from the settings page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.domain.roles import Permission
from smmpanel.errors import Refused
from smmpanel.usecases import signup
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, path_id
from smmpanel.web.admin.settings import PAGE, settings_page
from smmpanel.web.pages import redirect, site_of
from smmpanel.web.security import checked_form, context_of


async def create_invite(request: Request) -> Response:
    """The link is shown once, in the notice after the redirect; only its digest is kept."""
    user = staff_user(request)
    form = await checked_form(request)
    note = form_text(form, "note")
    try:
        token = await signup.create_invite(context_of(request).database, note, audit=acting(user))
    except Refused as refused:
        return await settings_page(request, status_code=400, error=refused.message, typed={"note": note})
    link = f"{site_of(request)}/signup?invite={token}"
    return redirect(PAGE, "Invite link (shown once, for one sign-up): %(link)s", request, link=link)


async def revoke_invite(request: Request) -> Response:
    user = staff_user(request)
    await checked_form(request)
    try:
        await signup.revoke_invite(context_of(request).database, path_id(request), audit=acting(user))
    except Refused as refused:
        return await settings_page(request, status_code=400, error=refused.message)
    return redirect(PAGE, "Invite withdrawn.", request)


routes = [
    AdminRoute(f"{PAGE}/invites", create_invite, Permission.SETTINGS, methods=["POST"]),
    AdminRoute(f"{PAGE}/invites/{{id:int}}/revoke", revoke_invite, Permission.SETTINGS, methods=["POST"]),
]
