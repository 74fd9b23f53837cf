"""One HTTP connection pool for all providers, and one client per provider on top of it."""

from __future__ import annotations

import httpx

from smmpanel.config import Settings
from smmpanel.db.provider_repositories import Provider
from smmpanel.providers.apiv2_client import ApiV2Client


class ClientPool:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout),
            limits=httpx.Limits(max_connections=settings.provider_concurrency * 16),
        )
        self._clients: dict[tuple[int, str, str], ApiV2Client] = {}

    def client_for(self, provider: Provider) -> ApiV2Client:
        """The provider's client; a changed URL or key gets a fresh one."""
        ident = (provider.id, provider.url, provider.api_key)
        client = self._clients.get(ident)
        if client is None:
            client = ApiV2Client(
                provider.url,
                provider.api_key,
                timeout=self._settings.http_timeout,
                connect_timeout=self._settings.http_connect_timeout,
                client=self._http,
                answer_limit=self._settings.provider_answer_limit,
                catalog_limit=self._settings.provider_catalog_limit,
            )
            self._clients[ident] = client
        return client

    async def aclose(self) -> None:
        await self._http.aclose()
