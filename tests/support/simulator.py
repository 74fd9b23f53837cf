"""The provider simulator served over real HTTP on a loopback port, in a background thread."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from smmpanel.providers.simulator import SimulatorSettings, create_simulator_app
from tests.support.server import ThreadedServer


class LiveSimulator(ThreadedServer):
    """One simulator process-in-a-thread, with an HTTP client speaking to it as a panel would."""

    def __init__(self, settings: SimulatorSettings) -> None:
        super().__init__(create_simulator_app(settings), lifespan="off")
        self.settings = settings
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def stop(self) -> None:
        self.http.close()
        super().stop()

    def post(self, **params: Any) -> httpx.Response:
        return self.http.post("/api/v2", data=params)

    def call(self, action: str, **params: Any) -> Any:
        """An API call with the right key; the answer must be JSON with HTTP 200."""
        params.setdefault("key", self.settings.api_key)
        response = self.post(action=action, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        return response.json()

    def force(self, order_id: int, **fields: Any) -> httpx.Response:
        return self.http.post(f"/_sim/orders/{order_id}", data={"key": self.settings.api_key, **fields})

    def stats(self) -> Any:
        response = self.http.get("/_sim/stats", params={"key": self.settings.api_key})
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def live_simulator(**settings: Any) -> Iterator[LiveSimulator]:
    simulator = LiveSimulator(SimulatorSettings(**settings)).start()
    try:
        yield simulator
    finally:
        simulator.stop()
