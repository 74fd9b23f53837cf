"""Telegram: one Bot API call, ``POST <api>/bot<token>/sendMessage`` with ``chat_id`` and ``text``."""

from __future__ import annotations

import httpx

from smmpanel.notify import DeliveryFailed, Message

MAX_TEXT = 4096
"""Telegram refuses longer messages."""


def telegram_text(message: Message) -> str:
    return f"{message.subject}\n\n{message.text}"[:MAX_TEXT]


class TelegramChannel:
    def __init__(self, api_url: str, token: str, client: httpx.AsyncClient) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.client = client

    async def send(self, message: Message) -> None:
        if not self.token:
            raise DeliveryFailed("no Telegram bot token is set")
        url = f"{self.api_url}/bot{self.token}/sendMessage"
        try:
            response = await self.client.post(url, json={"chat_id": message.recipient, "text": telegram_text(message)})
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            reason = str(error).replace(self.token, "<token>")  # the token is a password: never in a log
            raise DeliveryFailed(f"Telegram: {type(error).__name__}: {reason}") from None
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            description = answer.get("description") if isinstance(answer, dict) else None
            raise DeliveryFailed(f"Telegram answered HTTP {response.status_code}: {description or response.text[:200]}")
