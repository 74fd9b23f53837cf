"""Two-factor login pages: enrolment on the account page, and the code asked for after the password.

Between the password and the code the session is half logged in: it holds only who passed the
password (and when), never ``uid``, so every other page still treats the visitor as logged out.
"""

from __future__ import annotations

import math
import time

import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.db.repositories import Customer
from smmpanel.errors import Refused
from smmpanel.i18n import N_
from smmpanel.usecases import accounts, two_factor
from smmpanel.web.admin.access import landing_page
from smmpanel.web.admin.common import form_text
from smmpanel.web.pages import redirect, render, safe_next
from smmpanel.web.security import checked_form, client_address, context_of, log_in_session, require_user

HALF_LOGIN_SECONDS = 300
"""How long the code may follow the password before the password must be typed again."""


def begin_second_step(request: Request, user: Customer, next_page: str) -> Response:
    """After the right password of a user with two-factor login: ask for the code, open nothing yet."""
    request.session.clear()
    request.session.update({"mfa_uid": user.id, "mfa_at": time.time(), "mfa_next": next_page})
    return redirect("/login/code")


def _half_logged_in(request: Request) -> int | None:
    user_id, since = request.session.get("mfa_uid"), request.session.get("mfa_at")
    if not isinstance(user_id, int) or not isinstance(since, float) or time.time() - since > HALF_LOGIN_SECONDS:
        return None
    return user_id


async def login_code(request: Request) -> Response:
    user_id = _half_logged_in(request)
    if user_id is None:
        request.session.clear()
        return redirect("/login")
    if request.method == "GET":
        return render(request, "login_code.html", None)
    form = await checked_form(request)
    db, throttle, address = context_of(request).database, context_of(request).throttle, client_address(request)
    user = await accounts.customer_by_id(db, user_id)
    if user is None or user.disabled:
        request.session.clear()
        return redirect("/login")
    wait = throttle.wait_seconds(address, user.username)
    if wait > 0:
        error = f"Too many wrong codes. Try again in {math.ceil(wait / 60)} min."
        return render(request, "login_code.html", None, status_code=429, error=error)
    try:
        await two_factor.check_code(db, user.id, form_text(form, "code"))
    except Refused as refused:
        throttle.failed(address, user.username)
        return render(request, "login_code.html", None, status_code=400, error=refused.message)
    next_page = safe_next(str(request.session.get("mfa_next", "/")))
    await log_in_session(request, user)
    return redirect(next_page if next_page != "/" else landing_page(user))


def _qr_svg(uri: str) -> Markup:
    """The enrolment QR code as inline SVG, drawn here: the secret never leaves the panel."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=5, border=2))


async def _page(request: Request, user: Customer, *, status_code: int = 200, **values: object) -> Response:
    db = context_of(request).database
    current = await two_factor.state(db, user.id)
    enrolment = None if current.enabled else await two_factor.pending(db, user)
    qr = None if enrolment is None else _qr_svg(enrolment.uri)
    required = await two_factor.enrolment_required(db, user)
    response = render(
        request,
        "two_factor.html",
        user,
        status_code=status_code,
        state=current,
        enrolment=enrolment,
        qr=qr,
        required=required,
        **values,
    )
    response.headers["Cache-Control"] = "no-store"  # a secret or recovery codes may be on it
    return response


async def account_page(request: Request) -> Response:
    return await _page(request, await require_user(request))


async def start(request: Request) -> Response:
    user = await require_user(request)
    await checked_form(request)
    try:
        await two_factor.begin(context_of(request).database, user)
    except Refused as refused:
        return await _page(request, user, status_code=400, error=refused.message)
    return redirect("/account/two-factor")


async def confirm(request: Request) -> Response:
    user = await require_user(request)
    form = await checked_form(request)
    try:
        codes = await two_factor.confirm(context_of(request).database, user, form_text(form, "code"))
    except Refused as refused:
        return await _page(request, user, status_code=400, error=refused.message)
    notice = N_("Two-factor login is on. Keep these recovery codes somewhere safe: they are not shown again.")
    return await _page(request, user, recovery_codes=codes, notice=notice)


async def turn_off(request: Request) -> Response:
    user = await require_user(request)
    form = await checked_form(request)
    try:
        await two_factor.turn_off(context_of(request).database, user, form_text(form, "code"))
    except Refused as refused:
        return await _page(request, user, status_code=400, error=refused.message)
    return redirect("/account/two-factor", "Two-factor login is off.", request)


routes = [
    Route("/login/code", login_code, methods=["GET", "POST"]),
    Route("/account/two-factor", account_page, methods=["GET"]),
    Route("/account/two-factor/start", start, methods=["POST"]),
    Route("/account/two-factor/confirm", confirm, methods=["POST"]),
    Route("/account/two-factor/off", turn_off, methods=["POST"]),
]
