"""Sign up, log in, log out, change password."""

from __future__ import annotations

import math

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.errors import Refused
from smmpanel.usecases import accounts
from smmpanel.web.pages import redirect, render, safe_next
from smmpanel.web.security import (
    checked_form,
    client_address,
    context_of,
    current_user,
    log_in_session,
    require_user,
)


def form_text(form: FormData, name: str) -> str:
    """A text field of a form; absent or a file counts as empty."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def home(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return redirect("/login")
    return redirect("/admin" if user.is_admin else "/orders/new")


async def login(request: Request) -> Response:
    next_page = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "login.html", await current_user(request), username="", next_page=next_page)
    form = await checked_form(request)
    username, password = form_text(form, "username"), form_text(form, "password")
    throttle = context_of(request).throttle
    address = client_address(request)
    wait = throttle.wait_seconds(address, username)
    if wait > 0:
        minutes = math.ceil(wait / 60)
        error = f"Too many login attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
        return render(request, "login.html", None, status_code=429, error=error, username=username, next_page=next_page)
    try:
        customer = await accounts.log_in(context_of(request).database, username, password)
    except Refused as refused:
        throttle.failed(address, username)
        return render(
            request, "login.html", None, status_code=400, error=refused.message, username=username, next_page=next_page
        )
    throttle.succeeded(username)
    log_in_session(request, customer)
    target = next_page if next_page != "/" else ("/admin" if customer.is_admin else "/orders/new")
    return redirect(target)


async def signup(request: Request) -> Response:
    if request.method == "GET":
        ref = request.query_params.get("ref", "")
        return render(request, "signup.html", await current_user(request), username="", ref=ref)
    form = await checked_form(request)
    username, password = form_text(form, "username").strip(), form_text(form, "password")
    ref = form_text(form, "ref")  # the referral code of the link that brought them, if any
    db = context_of(request).database
    try:
        if password != form_text(form, "password_again"):
            raise Refused("The two passwords differ")
        await accounts.create_customer(db, username, password=password, referral_code=ref)
        customer = await accounts.log_in(db, username, password)
    except Refused as refused:
        return render(request, "signup.html", None, status_code=400, error=refused.message, username=username, ref=ref)
    log_in_session(request, customer)
    return redirect("/orders/new", "Welcome! Your account is ready.", request)


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
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
        await accounts.change_password(
            db, user.id, form_text(form, "current_password"), form_text(form, "new_password")
        )
    except Refused as refused:
        return render(request, "password.html", user, status_code=400, error=refused.message)
    refreshed = await accounts.customer_by_id(db, user.id)
    assert refreshed is not None
    log_in_session(request, refreshed)  # this session stays; every other one ends
    return redirect("/account/password", "Password changed.", request)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/signup", signup, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/account/password", password, methods=["GET", "POST"]),
]
