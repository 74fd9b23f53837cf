"""Log in as a customer to see what they see, and come back: the session, the banner's button, the guard.

While a member of staff views the panel as a customer, the session holds the customer's login
and, under ``impersonation``, who is looking and since when. ``ReadOnlyGuard`` refuses every
form of that session (any method but GET/HEAD) unless the owner chose read-write, except the one
that ends it; logging out is refused too, so that the end is always recorded.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from smmpanel.db.repositories import Customer
from smmpanel.domain.roles import Permission
from smmpanel.errors import Phrase
from smmpanel.i18n import N_
from smmpanel.usecases import people
from smmpanel.web.admin.access import landing_page
from smmpanel.web.pages import redirect, render
from smmpanel.web.security import checked_form, context_of, current_user, log_in_session

SESSION_KEY = "impersonation"
END_PATH = "/impersonation/end"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def staff_mark(user: Customer) -> str:
    """A digest of the staff member's password hash: a password changed meanwhile ends the way back."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


async def end(request: Request) -> Response:
    """POST /impersonation/end: back to the admin session that started it (audited)."""
    await checked_form(request)
    held = request.session.get(SESSION_KEY)
    customer = await current_user(request)
    if not isinstance(held, dict) or customer is None:
        request.session.clear()
        return redirect("/login")
    staff = await people.end_impersonation(context_of(request).database, int(held["staff_id"]), customer.id)
    if staff is None or staff_mark(staff) != held.get("mark"):
        request.session.clear()
        return redirect("/login")
    await log_in_session(request, staff)
    back = f"/admin/customers/{customer.id}" if staff.may(Permission.CUSTOMERS_READ) else landing_page(staff)
    return redirect(back, Phrase("You are back as %(username)s.", username=staff.username), request)


class ReadOnlyGuard:
    """Refuses every change made through a read-only impersonation, before the form is even read."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or scope["path"] == END_PATH:
            await self._app(scope, receive, send)
            return
        held = scope.get("session", {}).get(SESSION_KEY)
        if not isinstance(held, dict) or (held.get("write") and scope["path"] != "/logout"):
            await self._app(scope, receive, send)
            return
        request = Request(scope, receive)
        user = await current_user(request)
        message = Phrase(
            "You are viewing this account as %(staff)s: nothing was changed."
            " Use “Back to admin” to return to your own session.",
            staff=held.get("staff"),
        )
        response = render(request, "error.html", user, status_code=403, title=N_("Read only"), message=message)
        await response(scope, receive, send)


routes = [Route(END_PATH, end, methods=["POST"])]
