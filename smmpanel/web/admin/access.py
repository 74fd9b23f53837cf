"""Who may open an admin page: every admin route names the permission it needs (``domain.roles``).

Use ``AdminRoute(path, endpoint, Permission.X, methods=[...])`` for every page and form of the
admin side; the endpoint then reads its user with ``staff_user(request)``. A role without the
permission gets the same 404 as an address that does not exist, whatever the method; a logged-out
visitor goes to the login page; an owner or admin who must enrol in two-factor login first is sent
to the enrolment page. ``require_permission`` is the same check for code that is not a route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.db.repositories import Customer
from smmpanel.domain.roles import Permission
from smmpanel.usecases import desk, two_factor
from smmpanel.web.security import LoginRequired, PageNotFound, context_of, current_user

Endpoint = Callable[[Request], Awaitable[Response]]

LANDING_PAGES = (
    ("/admin", Permission.REPORTS),
    ("/admin/tickets", Permission.TICKETS),
    ("/admin/orders", Permission.ORDERS_READ),
)
"""Where a member of staff lands after logging in: the first of these their role may open."""


class TwoFactorEnrolmentRequired(Exception):
    """The owner requires two-factor login for this role, and this user has not enrolled yet."""


async def require_permission(request: Request, permission: Permission) -> Customer:
    """The logged-in member of staff, if their role holds ``permission``; otherwise not found."""
    user = await current_user(request)
    if user is None:
        raise LoginRequired
    if not user.may(permission):
        raise PageNotFound  # a role learns nothing about pages it may not open, not even that they exist
    if await two_factor.enrolment_required(context_of(request).database, user):
        raise TwoFactorEnrolmentRequired
    request.state.staff = user
    return user


def staff_user(request: Request) -> Customer:
    """The user ``AdminRoute`` let in; an endpoint reached any other way answers not found."""
    user = getattr(request.state, "staff", None)
    if not isinstance(user, Customer):
        raise PageNotFound
    return user


class AdminRoute(Route):
    """A route of the admin side; ``permission`` is what it needs, checked before the endpoint runs."""

    def __init__(self, path: str, endpoint: Endpoint, permission: Permission, *, methods: list[str]) -> None:
        async def guarded(request: Request) -> Response:
            user = await require_permission(request, permission)
            if request.method == "GET":  # the nav's queue counts; a form's POST only redirects
                request.state.queue_counts = await desk.queue_counts(context_of(request).database, user)
            return await endpoint(request)

        super().__init__(path, guarded, methods=methods, name=endpoint.__name__)
        self.permission = permission


def landing_page(user: Customer) -> str:
    """The first page after login: a customer's new order, a member of staff's first permitted page."""
    if not user.is_admin:
        return "/orders/new"
    return next((path for path, permission in LANDING_PAGES if user.may(permission)), "/account/password")
