"""Email on the dashboard: forgotten password, reset and verification links, the customer's address and
notification switches. Anonymous pages answer the same way whether an address has an account or not."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.db.notify_repositories import Prefs
from smmpanel.domain.notifications import CUSTOMER_EVENTS
from smmpanel.errors import Refused
from smmpanel.i18n import N_
from smmpanel.money import AmountError, format_amount, parse_amount
from smmpanel.usecases import email_accounts, notification_prefs
from smmpanel.web.auth_routes import form_text
from smmpanel.web.pages import redirect, render, site_of
from smmpanel.web.security import checked_form, context_of, current_user, require_user


async def forgot_password(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "forgot_password.html", await current_user(request), email="")
    form = await checked_form(request)
    email = form_text(form, "email")
    await email_accounts.request_password_reset(context_of(request).database, email, site_of(request))
    return render(request, "forgot_password.html", None, email=email, notice=email_accounts.RESET_SENT)


async def reset_password(request: Request) -> Response:
    db = context_of(request).database
    if request.method == "GET":
        token = request.query_params.get("token", "")
        if not await email_accounts.reset_link_works(db, token):
            return render(
                request, "reset_password.html", None, status_code=400, token="", error=email_accounts.INVALID_LINK
            )
        return render(request, "reset_password.html", None, token=token)
    form = await checked_form(request)
    token = form_text(form, "token")
    try:
        if form_text(form, "password") != form_text(form, "password_again"):
            raise Refused("The two passwords differ")
        await email_accounts.reset_password(db, token, form_text(form, "password"))
    except Refused as refused:
        return render(request, "reset_password.html", None, status_code=400, token=token, error=refused.message)
    request.session.clear()
    return redirect("/login", "Your password is changed and you are signed out everywhere. Log in with it.", request)


async def verify_email(request: Request) -> Response:
    user = await current_user(request)
    try:
        await email_accounts.verify_email(context_of(request).database, request.query_params.get("token", ""))
    except Refused as refused:
        return render(request, "error.html", user, status_code=400, title=N_("Link not valid"), message=refused.message)
    return redirect("/account/notifications" if user else "/login", "Your email address is verified.", request)


def _prefs_form(prefs: Prefs) -> dict[str, object]:
    below = prefs.low_balance_below
    return {
        "on": set(CUSTOMER_EVENTS) - prefs.off,
        "low_balance_below": "" if below is None else format_amount(below),
        "telegram_chat_id": prefs.telegram_chat_id or "",
    }


async def _account_page(
    request: Request,
    *,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, object] | None = None,
    email: str | None = None,
) -> Response:
    user = await require_user(request)
    db = context_of(request).database
    contact = await email_accounts.email_of(db, user.id)
    values = form or _prefs_form(await notification_prefs.prefs_of(db, user.id))
    return render(
        request,
        "account_notifications.html",
        user,
        status_code=status_code,
        error=error,
        contact=contact,
        events=CUSTOMER_EVENTS,
        form=values,
        new_email=contact.email or "" if email is None else email,
    )


async def account(request: Request) -> Response:
    return await _account_page(request)


async def change_email(request: Request) -> Response:
    user = await require_user(request)
    form = await checked_form(request)
    email = form_text(form, "email")
    db = context_of(request).database
    try:
        await email_accounts.change_email(db, user.id, form_text(form, "current_password"), email, site_of(request))
    except Refused as refused:
        return await _account_page(request, status_code=400, error=refused.message, email=email)
    return redirect("/account/notifications", "Email changed: follow the link we sent to confirm it.", request)


async def resend_verification(request: Request) -> Response:
    user = await require_user(request)
    await checked_form(request)
    try:
        await email_accounts.resend_verification(context_of(request).database, user.id, site_of(request))
    except Refused as refused:
        return await _account_page(request, status_code=400, error=refused.message)
    return redirect("/account/notifications", "We sent you a new confirmation link.", request)


async def save_notifications(request: Request) -> Response:
    user = await require_user(request)
    form = await checked_form(request)
    on = {name for name in CUSTOMER_EVENTS if form_text(form, f"on_{name}")}
    below_text = form_text(form, "low_balance_below").strip()
    chat = form_text(form, "telegram_chat_id")
    try:
        try:
            below = parse_amount(below_text) if below_text else None
        except AmountError:
            raise Refused("Low balance threshold: write a number with at most 5 decimals, e.g. 12.5") from None
        await notification_prefs.save_prefs(
            context_of(request).database, user.id, on=on, low_balance_below=below, telegram_chat_id=chat
        )
    except Refused as refused:
        typed: dict[str, object] = {"on": on, "low_balance_below": below_text, "telegram_chat_id": chat}
        return await _account_page(request, status_code=400, error=refused.message, form=typed)
    return redirect("/account/notifications", "Notification settings saved.", request)


routes = [
    Route("/forgot-password", forgot_password, methods=["GET", "POST"]),
    Route("/reset-password", reset_password, methods=["GET", "POST"]),
    Route("/verify-email", verify_email, methods=["GET"]),
    Route("/account/notifications", account, methods=["GET"]),
    Route("/account/email", change_email, methods=["POST"]),
    Route("/account/email/resend", resend_verification, methods=["POST"]),
    Route("/account/notifications", save_notifications, methods=["POST"]),
]
