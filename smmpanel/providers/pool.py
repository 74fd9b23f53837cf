"""One API v2 client per provider, each with a connection pool of its own kept alive between calls.

A provider's lane runs at most ``provider_concurrency`` exchanges at once (``engine.lanes``),
so that many connections are kept open to it (``providers.transport``, a fraction of the CPU of
httpx per call): a send reuses one instead of connecting (and for HTTPS,
shaking hands) again. Two more are allowed for the calls made outside the
lane (the balance check, a catalog import). A busy provider cannot take connections from
another's pool.
"""

from __future__ import annotations

from urllib.request import getproxies

import httpx

from smmpanel.config import Settings
from smmpanel.db.provider_repositories import Provider
from smmpanel.providers.apiv2_client import ApiV2Client
from smmpanel.providers.transport import KeptAliveTransport

OUTSIDE_THE_LANE = 2
"""Connections beyond the lane's concurrency: a balance check or a catalog import meanwhile."""


class ClientPool:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._clients: dict[tuple[int, str, str], tuple[ApiV2Client, httpx.AsyncClient | KeptAliveTransport]] = {}

    def _connections(self) -> httpx.AsyncClient | KeptAliveTransport:
        settings = self._settings
        most = settings.provider_concurrency + OUTSIDE_THE_LANE
        if getproxies():  # httpx goes through the environment's proxy (and honours NO_PROXY)
            return httpx.AsyncClient(
                headers={"User-Agent": "smmpanel"},
                timeout=httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout),
                limits=httpx.Limits(max_connections=most, max_keepalive_connections=most),
            )
        return KeptAliveTransport(most)

    def client_for(self, provider: Provider) -> ApiV2Client:
        """The provider's client; a changed URL or key gets a fresh one (the old one's connections
        are closed with the pool)."""
        ident = (provider.id, provider.url, provider.api_key)
        found = self._clients.get(ident)
        if found is None:
            http = self._connections()
            client = ApiV2Client(
                provider.url,
                provider.api_key,
                timeout=self._settings.http_timeout,
                connect_timeout=self._settings.http_connect_timeout,
                client=http,
                answer_limit=self._settings.provider_answer_limit,
                catalog_limit=self._settings.provider_catalog_limit,
            )
            found = self._clients[ident] = (client, http)
        return found[0]

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for _, http in clients.values():
            await http.aclose()
