"""The customer's own "sign out everywhere" (the operator's is on a customer's admin page)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.usecases import sessions
from smmpanel.web.pages import redirect
from smmpanel.web.security import checked_form, context_of, require_user


async def end_everywhere(request: Request) -> Response:
    """Every session of the account ends, this browser's too: back to the login page."""
    user = await require_user(request)
    await checked_form(request)
    await sessions.end_sessions(context_of(request).database, user.id)
    request.session.clear()
    return redirect("/login")


routes = [Route("/account/sessions/end", end_everywhere, methods=["POST"])]
