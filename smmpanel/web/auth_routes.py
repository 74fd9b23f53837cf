"""Sign up, log in, log out, change password."""

from __future__ import annotations

import math

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.errors import Refused
from smmpanel.usecases import accounts, two_factor
from smmpanel.usecases import signup as signup_rules
from smmpanel.web.admin.access import landing_page
from smmpanel.web.key_once import hold_key_once
from smmpanel.web.pages import redirect, render, safe_next, site_of
from smmpanel.web.public.landing import landing
from smmpanel.web.security import (
    checked_form,
    client_address,
    context_of,
    current_user,
    log_in_session,
    log_out_session,
    require_user,
    session_id,
)
from smmpanel.web.two_factor_routes import begin_second_step


def form_text(form: FormData, name: str) -> str:
    """A text field of a form; absent or a file counts as empty."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _duration(seconds: float) -> str:
    count, unit = (math.ceil(seconds), "second") if seconds < 60 else (math.ceil(seconds / 60), "minute")
    return f"{count} {unit}{'s' if count > 1 else ''}"


async def home(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return await landing(request)  # a visitor: the storefront
    return redirect(landing_page(user))


async def login(request: Request) -> Response:
    next_page = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "login.html", await current_user(request), username="", next_page=next_page)
    form = await checked_form(request)
    username, password = form_text(form, "username"), form_text(form, "password")
    if len(username.strip()) > accounts.USERNAME_MAX_LENGTH:  # no account has it: refused before it is kept anywhere
        error = accounts.INVALID_LOGIN
        return render(request, "login.html", None, status_code=400, error=error, username="", next_page=next_page)
    throttle = context_of(request).throttle
    address = client_address(request)
    wait = throttle.wait_seconds(address, username)
    if wait > 0:
        error = f"Too many login attempts. Try again in {_duration(wait)}."
        return render(request, "login.html", None, status_code=429, error=error, username=username, next_page=next_page)
    throttle.failed(address, username)  # before the check: guesses sent at once count as well
    try:
        customer = await accounts.log_in(context_of(request).database, username, password)
    except Refused as refused:
        return render(
            request, "login.html", None, status_code=400, error=refused.message, username=username, next_page=next_page
        )
    throttle.succeeded(address, username)
    if await two_factor.is_enabled(context_of(request).database, customer.id):
        return begin_second_step(request, customer, next_page)
    await log_in_session(request, customer)
    target = next_page if next_page != "/" else landing_page(customer)
    return redirect(target)


def _signup_page(request: Request, status_code: int = 200, **values: str | None) -> Response:
    fields = {"username": "", "email": "", "ref": "", "invite": "", "refusal": None, **values}
    return render(request, "signup.html", None, status_code=status_code, **fields)


async def signup(request: Request) -> Response:
    db = context_of(request).database
    if request.method == "GET":
        invite = request.query_params.get("invite", "")
        ref = request.query_params.get("ref", "")
        refusal = await signup_rules.refusal(db, invite)
        user = await current_user(request)
        fields = {"username": "", "email": "", "ref": ref, "invite": invite, "refusal": refusal}
        return render(request, "signup.html", user, status_code=403 if refusal else 200, **fields)
    form = await checked_form(request)
    username, password = form_text(form, "username").strip(), form_text(form, "password")
    username = username[: accounts.USERNAME_MAX_LENGTH + 1]  # enough to be refused; never echoed whole
    email = form_text(form, "email").strip()
    ref = form_text(form, "ref")  # the referral code of the link that brought them, if any
    invite = form_text(form, "invite")[:64]
    typed = {"username": username, "email": email, "ref": ref, "invite": invite}
    signups, address = context_of(request).signups, client_address(request)
    wait = signups.wait_seconds(address)
    if wait > 0:
        error = f"Too many sign-ups from your address. Try again in {_duration(wait)}."
        return _signup_page(request, 429, error=error, **typed)
    signups.attempted(address)
    try:
        if password != form_text(form, "password_again"):
            raise Refused("The two passwords differ")
        created = await signup_rules.sign_up(
            db, username, password, email=email or None, site=site_of(request), referral_code=ref, invite=invite
        )
        customer = await accounts.log_in(db, username, password)
    except Refused as refused:
        return _signup_page(
            request, 400, error=refused.message, refusal=await signup_rules.refusal(db, invite), **typed
        )
    await log_in_session(request, customer)
    hold_key_once(request, created.api_key)  # the new account's key, shown on its first API page
    return redirect("/orders/new", "Welcome! Your account is ready. Your API key is on the API page.", request)


async def logout(request: Request) -> Response:
    await checked_form(request)
    await log_out_session(request)
    return redirect("/login")


async def password(request: Request) -> Response:
    user = await require_user(request)
    if request.method == "GET":
        return render(request, "password.html", user)
    form = await checked_form(request)
    db = context_of(request).database
    try:
        if form_text(form, "new_password") != form_text(form, "new_password_again"):
            raise Refused("The two new passwords differ")
        current, new = form_text(form, "current_password"), form_text(form, "new_password")
        await accounts.change_password(db, user.id, current, new, keep_session=session_id(request))
    except Refused as refused:
        return render(request, "password.html", user, status_code=400, error=refused.message)
    return redirect("/account/password", "Password changed.", request)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/signup", signup, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/account/password", password, methods=["GET", "POST"]),
]
