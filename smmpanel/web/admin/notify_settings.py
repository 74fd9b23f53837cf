"""The operator's email and notification settings: SMTP, Telegram, who is told what, and the mail queue."""

from __future__ import annotations

from dataclasses import replace

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.notify_repositories import FAILED, QUEUED, SENDING
from smmpanel.domain.notifications import CUSTOMER_EVENTS, OPERATOR_EVENTS
from smmpanel.domain.roles import Permission
from smmpanel.errors import Refused
from smmpanel.notify.mail import TLS_MODES
from smmpanel.usecases import outbox
from smmpanel.usecases.notify_settings import (
    SMTP_PASSWORD,
    TELEGRAM_TOKEN,
    NotifySettings,
    notify_settings,
    save_notify_settings,
)
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, form_values, show
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of

PATH = "/admin/settings/notifications"


def _as_form(current: NotifySettings) -> dict[str, object]:
    smtp = current.smtp
    return {
        "smtp_host": smtp.host,
        "smtp_port": str(smtp.port),
        "smtp_tls": smtp.tls,
        "smtp_username": smtp.username,
        "mail_from": smtp.from_address,
        "public_url": current.public_url,
        "operator_email": current.operator_email,
        "telegram_chat_id": current.telegram_chat_id,
        "require_verified_email": current.require_verified_email,
        "on": set(CUSTOMER_EVENTS) | set(OPERATOR_EVENTS) - current.off,
    }


def _from_form(form: FormData, current: NotifySettings) -> NotifySettings:
    port = form_text(form, "smtp_port").strip()
    if not port.isdigit():
        raise Refused("The SMTP port must be a number from 1 to 65535")
    # A secret left empty keeps its value: the page never shows it back.
    password = form_text(form, "smtp_password") or current.smtp.password
    token = form_text(form, "telegram_token").strip() or current.telegram_token
    if form_text(form, "clear_smtp_password"):
        password = ""
    if form_text(form, "clear_telegram_token"):
        token = ""
    smtp = replace(
        current.smtp,
        host=form_text(form, "smtp_host").strip(),
        port=int(port),
        tls=form_text(form, "smtp_tls"),
        username=form_text(form, "smtp_username").strip(),
        password=password,
        from_address=form_text(form, "mail_from").strip(),
    )
    events = {**CUSTOMER_EVENTS, **OPERATOR_EVENTS}
    return NotifySettings(
        smtp=smtp,
        public_url=form_text(form, "public_url").strip(),
        operator_email=form_text(form, "operator_email").strip(),
        telegram_token=token,
        telegram_chat_id=form_text(form, "telegram_chat_id").strip(),
        require_verified_email=bool(form_text(form, "require_verified_email")),
        off=frozenset(name for name in events if not form_text(form, f"on_{name}")),
    )


async def _page(
    request: Request,
    form: dict[str, object],
    current: NotifySettings,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    user = staff_user(request)
    db = context_of(request).database
    return show(
        request,
        "admin/notify_settings.html",
        user,
        status_code=status_code,
        error=error,
        form=form,
        tls_modes=TLS_MODES,
        customer_events=CUSTOMER_EVENTS,
        operator_events=OPERATOR_EVENTS,
        password_mask=current.masked(SMTP_PASSWORD),
        token_mask=current.masked(TELEGRAM_TOKEN),
        waiting=await outbox.queue_listing(db, (QUEUED, SENDING)),
        failed=await outbox.queue_listing(db, (FAILED,)),
    )


async def settings_page(request: Request) -> Response:
    user = staff_user(request)
    context = context_of(request)
    current = await notify_settings(context.database, context.settings)
    if request.method == "GET":
        return await _page(request, _as_form(current), current)
    form = await checked_form(request)
    try:
        changes = _from_form(form, current)
        await save_notify_settings(context.database, context.settings, changes, audit=acting(user))
    except Refused as refused:
        typed: dict[str, object] = {**form_values(form), "on": {name[3:] for name in form if name.startswith("on_")}}
        return await _page(request, typed, current, status_code=400, error=refused.message)
    return redirect(PATH, "Notification settings saved.", request)


routes = [AdminRoute(PATH, settings_page, Permission.SETTINGS, methods=["GET", "POST"])]
