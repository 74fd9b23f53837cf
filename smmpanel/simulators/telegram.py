"""A local Telegram Bot API, for its one call the panel makes: ``sendMessage``.

Like the real one it is addressed as ``/bot<token>/sendMessage``, takes ``chat_id`` and ``text``
as JSON, a form or the query string, refuses a wrong token with 401 and a bad request with 400
(``{"ok": false, "error_code": ..., "description": ...}``), and answers a sent message as
``{"ok": true, "result": <Message>}``. What it received is kept in ``sent`` for the tests to read.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MAX_TEXT = 4096
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class SentMessage:
    chat_id: str
    text: str


@dataclass
class FakeTelegram:
    """One bot: its token, the chats that have talked to it (None: any chat), and what it sent."""

    token: str
    chats: set[str] | None = None
    sent: list[SentMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def bot_id(self) -> int:
        prefix = self.token.partition(":")[0]
        return int(prefix) if prefix.isdigit() else 0

    def messages_to(self, chat_id: str) -> list[str]:
        with self._lock:
            return [message.text for message in self.sent if message.chat_id == chat_id]

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/bot{token:str}/sendMessage", self._send_message, methods=["GET", "POST"])])

    async def _send_message(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        if params is None:
            return _error(400, "Bad Request: request body is too large or malformed")
        chat_id, text = str(params.get("chat_id", "")).strip(), str(params.get("text", ""))
        if not chat_id:
            return _error(400, "Bad Request: chat_id is empty")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        if self.chats is not None and chat_id not in self.chats:
            return _error(400, "Bad Request: chat not found")
        with self._lock:
            self.sent.append(SentMessage(chat_id, text))
            message_id = len(self.sent)
        result = {
            "message_id": message_id,
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "Panel", "username": "panel_bot"},
            "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id, "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        return JSONResponse({"ok": True, "result": result})


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error_code": code, "description": description}, status_code=code)


async def _params(request: Request) -> dict[str, Any] | None:
    """The call's parameters, from the query string and a JSON or form body, as Telegram reads them."""
    params: dict[str, Any] = dict(request.query_params)
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        return None
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    if not body:
        return params
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            decoded = json.loads(body)
        except ValueError:
            return None
        if not isinstance(decoded, dict):
            return None
        return {**params, **decoded}
    form = await request.form()
    return {**params, **{name: value for name, value in form.items() if isinstance(value, str)}}
