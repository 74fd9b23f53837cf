"""The operator manages customers as people: create one, reset a password, log in as them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.domain.roles import Permission, Role
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.usecases import people
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_amount, form_text, form_values, path_id, show
from smmpanel.web.impersonation import SESSION_KEY, staff_mark
from smmpanel.web.pages import redirect, site_of
from smmpanel.web.security import PageNotFound, checked_form, context_of, log_in_session


def _password_once(request: Request, username: str, customer_id: int, password: str, notice: str) -> Response:
    user = staff_user(request)
    page = show(
        request,
        "admin/password_once.html",
        user,
        username=username,
        customer_id=customer_id,
        password=password,
        notice=notice,
    )
    page.headers["Cache-Control"] = "no-store"
    return page


async def new_customer(request: Request) -> Response:
    user = staff_user(request)
    if request.method == "GET":
        return show(request, "admin/customer_new.html", user)
    form = await checked_form(request)
    try:
        balance = form_amount(form, "balance", "Starting balance", blank=0)
        if balance and not user.may(Permission.FUNDS):
            raise Refused("Your role may not add funds: leave the starting balance empty")
        username = form_text(form, "username").strip()
        customer, password = await people.create_customer(
            context_of(request).database, username, balance, audit=acting(user)
        )
    except Refused as refused:
        return show(
            request, "admin/customer_new.html", user, status_code=400, error=refused.message, form=form_values(form)
        )
    notice = Phrase(
        "Customer %(username)s created. Give them this temporary password: it is not shown again.",
        username=customer.username,
    )
    return _password_once(request, customer.username, customer.id, password, notice)


async def reset_password(request: Request) -> Response:
    user = staff_user(request)
    await checked_form(request)
    customer_id = path_id(request)
    try:
        customer, password = await people.reset_password(
            context_of(request).database, customer_id, site=site_of(request), audit=acting(user)
        )
    except NotFound:
        raise PageNotFound from None
    if password is None:
        notice = Phrase(
            "A password reset link was emailed to %(username)s; it works once, for an hour.", username=customer.username
        )
        return redirect(f"/admin/customers/{customer.id}", notice, request)
    notice = Phrase(
        "Password reset: the old one no longer works. Give them this temporary password; it is not shown again."
    )
    return _password_once(request, customer.username, customer.id, password, notice)


async def impersonate(request: Request) -> Response:
    """The session becomes the customer's, bannered; read-only unless the owner chose read-write."""
    staff = staff_user(request)
    form = await checked_form(request)
    write = form_text(form, "write") == "1" and staff.role == Role.OWNER
    customer_id = path_id(request)
    try:
        customer = await people.start_impersonation(
            context_of(request).database, customer_id, write=write, audit=acting(staff)
        )
    except NotFound:
        raise PageNotFound from None
    except Refused as refused:
        return redirect(f"/admin/customers/{customer_id}", refused.message, request)
    await log_in_session(request, customer)
    request.session[SESSION_KEY] = {
        "staff_id": staff.id,
        "staff": staff.username,
        "mark": staff_mark(staff),
        "write": write,
    }
    return redirect("/orders/new")


routes = [
    AdminRoute("/admin/customers/new", new_customer, Permission.CUSTOMERS_WRITE, methods=["GET", "POST"]),
    AdminRoute("/admin/customers/{id:int}/password", reset_password, Permission.CUSTOMERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/customers/{id:int}/impersonate", impersonate, Permission.IMPERSONATE, methods=["POST"]),
]
