"""The last line of defence: a request that failed unexpectedly still gets a JSON answer."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smmpanel.api.observability import UNHANDLED_STATUS
from smmpanel.api.v2 import json_response

log = logging.getLogger("smmpanel")

TEMPORARY_FAILURE = {"error": "Temporary failure, please retry"}


class LastResort:
    """Log the fault once and answer 503 JSON without a trace, asking the client to retry.

    Starlette's own handler for ``Exception`` answers and then re-raises, so the server logged
    each fault twice and closed the connection under the client's next request. Here the
    request ends with its answer, and the connection stays usable. A fault after the answer
    has begun can only end the connection: it is re-raised for the server to do that.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if started:
                raise
            log.exception("unhandled error on %s", scope.get("path", ""))
            await json_response(TEMPORARY_FAILURE, status_code=UNHANDLED_STATUS)(scope, receive, send)
