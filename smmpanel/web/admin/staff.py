"""The Staff page (owner only): members of staff, their roles, access, and the 2FA requirement."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.roles import STAFF_ROLES, Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.i18n import N_
from smmpanel.usecases import staff, two_factor
from smmpanel.usecases.audit import Audit
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, form_values, path_id, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of

PAGE = "/admin/staff"


async def _page(request: Request, *, status_code: int = 200, **values: object) -> Response:
    db = context_of(request).database
    page = show(
        request,
        "admin/staff.html",
        staff_user(request),
        status_code=status_code,
        members=await staff.list_staff(db),
        roles=[str(role) for role in STAFF_ROLES],
        required=await two_factor.is_required(db),
        **values,
    )
    page.headers["Cache-Control"] = "no-store"  # a new member's password may be on it
    return page


async def staff_page(request: Request) -> Response:
    return await _page(request)


async def add_member(request: Request) -> Response:
    user = staff_user(request)
    form = await checked_form(request)
    username = form_text(form, "username").strip()
    try:
        password = await staff.add_staff(
            context_of(request).database, username, form_text(form, "role"), audit=acting(user)
        )
    except Refused as refused:
        return await _page(request, status_code=400, error=refused.message, form=form_values(form))
    notice = Phrase(
        "%(username)s can now log in. Give them this temporary password: it is not shown again.", username=username
    )
    return await _page(request, notice=notice, new_member=username, new_password=password)


MemberAction = Callable[[Database, Customer, FormData, Audit], Awaitable[str]]


def _member_action(act: MemberAction) -> Callable[[Request], Awaitable[Response]]:
    """POST on one member: run the change; a refusal shows the page again with the message."""

    async def endpoint(request: Request) -> Response:
        user = staff_user(request)
        form = await checked_form(request)
        db = context_of(request).database
        members = {member.user.id: member.user for member in await staff.list_staff(db)}
        member = members.get(path_id(request))
        if member is None:
            raise PageNotFound
        try:
            notice = await act(db, member, form, acting(user))
        except (Refused, NotFound) as refusal:
            return await _page(request, status_code=400, error=str(getattr(refusal, "message", refusal)))
        return redirect(PAGE, notice, request)

    return endpoint


async def _role(db: Database, member: Customer, form: FormData, audit: Audit) -> str:
    role = form_text(form, "role")
    await staff.set_role(db, member.username, role, audit=audit)
    return f"{member.username} is now {role}."


async def _disabled(db: Database, member: Customer, form: FormData, audit: Audit) -> str:
    disabled = form_text(form, "disabled") == "1"
    await staff.set_disabled(db, member.username, disabled, audit=audit)
    return f"{member.username} is {'disabled' if disabled else 'enabled'}."


async def _reset_two_factor(db: Database, member: Customer, _form: FormData, audit: Audit) -> str:
    await staff.reset_two_factor(db, member.username, audit=audit)
    return f"{member.username}'s two-factor login was removed; they set it up again."


async def require_two_factor(request: Request) -> Response:
    form = await checked_form(request)
    required = form_text(form, "required") == "1"
    await two_factor.set_required(context_of(request).database, required, audit=acting(staff_user(request)))
    notice = N_("Owners and admins must now use two-factor login.") if required else N_("Two-factor login is optional.")
    return redirect(PAGE, notice, request)


routes = [
    AdminRoute(PAGE, staff_page, Permission.STAFF, methods=["GET"]),
    AdminRoute(PAGE, add_member, Permission.STAFF, methods=["POST"]),
    AdminRoute(f"{PAGE}/two-factor-required", require_two_factor, Permission.STAFF, methods=["POST"]),
    AdminRoute(PAGE + "/{id:int}/role", _member_action(_role), Permission.STAFF, methods=["POST"]),
    AdminRoute(PAGE + "/{id:int}/disabled", _member_action(_disabled), Permission.STAFF, methods=["POST"]),
    AdminRoute(PAGE + "/{id:int}/two-factor", _member_action(_reset_two_factor), Permission.STAFF, methods=["POST"]),
]
