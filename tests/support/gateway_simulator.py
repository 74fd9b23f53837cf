"""The payment-gateway simulator over real HTTP on a loopback port, and a merchant stand-in for its callbacks."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from smmpanel.gateways.crypto import signature
from smmpanel.simulators.gateways import KEY_HEADER, GatewaySimulatorSettings, create_gateway_simulator_app
from tests.support.server import ThreadedServer

CONTROL_KEY = "test-control-key-0123"
PAYPAL_APP = ("AeSimClientId0001", "sim-client-secret-0001")
OTHER_PAYPAL_APP = ("AeSimClientId0002", "sim-client-secret-0002")
PM_ACCOUNT = ("U1234567", "alternate-passphrase-1")
PM_EUR_ACCOUNT = ("E1234567", PM_ACCOUNT[1])
"""The same Perfect Money user's EUR wallet: one alternate passphrase signs for all of a user's wallets."""
PM_SECOND_ACCOUNT = ("U2345678", PM_ACCOUNT[1])
OTHER_PM_ACCOUNT = ("U7777777", "someone-elses-passphrase")
CRYPTOMUS_MERCHANT = ("8b03432e-385b-4670-8d06-064591096795", "cryptomus-payment-key-0001")
OTHER_CRYPTOMUS_MERCHANT = ("c26b80a9-9a3f-4bb6-b6c6-9a2d2b2f2f10", "cryptomus-payment-key-0002")


def simulator_settings(**overrides: Any) -> GatewaySimulatorSettings:
    values: dict[str, Any] = {
        "control_key": CONTROL_KEY,
        "paypal_apps": dict([PAYPAL_APP, OTHER_PAYPAL_APP]),
        "perfectmoney_accounts": dict([PM_ACCOUNT, PM_EUR_ACCOUNT, PM_SECOND_ACCOUNT, OTHER_PM_ACCOUNT]),
        "cryptomus_merchants": dict([CRYPTOMUS_MERCHANT, OTHER_CRYPTOMUS_MERCHANT]),
        "seed": 7,
        "callback_timeout": 120.0,
        **overrides,
    }
    return GatewaySimulatorSettings(**values)


class LiveGatewaySimulator(ThreadedServer):
    """The simulator in a thread, with clients for its gateways and for its ``/_sim/`` controls."""

    def __init__(self, settings: GatewaySimulatorSettings) -> None:
        super().__init__(create_gateway_simulator_app(settings), lifespan="off")
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def stop(self) -> None:
        self.http.close()
        super().stop()

    @property
    def paypal_base(self) -> str:
        return f"{self.base_url}/paypal"

    @property
    def perfectmoney_base(self) -> str:
        return f"{self.base_url}/perfectmoney"

    @property
    def cryptomus_base(self) -> str:
        return f"{self.base_url}/cryptomus"

    def control(self, method: str, path: str, body: object = None) -> Any:
        """A ``/_sim/`` call with the key; it must succeed."""
        response = self.http.request(method, f"/_sim/{path}", json=body, headers={KEY_HEADER: CONTROL_KEY})
        assert response.status_code == 200, response.text
        return response.json()

    def deliveries(self, gateway: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.control("GET", f"deliveries?gateway={gateway}")["deliveries"]
        return found

    # PayPal, as a merchant calls it

    def paypal_token(self, app: tuple[str, str] = PAYPAL_APP) -> str:
        basic = base64.b64encode(f"{app[0]}:{app[1]}".encode()).decode()
        response = self.http.post(
            "/paypal/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def paypal(self, method: str, path: str, token: str, body: object = None, **headers: str) -> httpx.Response:
        return self.http.request(
            method, f"/paypal{path}", json=body, headers={"Authorization": f"Bearer {token}", **headers}
        )

    # Cryptomus, as a merchant calls it

    def cryptomus(
        self, path: str, body: dict[str, Any], merchant: tuple[str, str] = CRYPTOMUS_MERCHANT
    ) -> httpx.Response:
        raw = httpx.Request("POST", "/", json=body).content
        headers = {"merchant": merchant[0], "sign": signature(raw, merchant[1]), "Content-Type": "application/json"}
        return self.http.post(f"/cryptomus{path}", content=raw, headers=headers)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


class Merchant(ThreadedServer):
    """A stand-in merchant that keeps every callback it gets and answers ``status`` to each."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.status = status
        super().__init__(Starlette(routes=[Route("/callback", self._callback, methods=["POST"])]), lifespan="off")

    @property
    def url(self) -> str:
        return f"{self.base_url}/callback"

    async def _callback(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append(Received(dict(request.headers), body))
        return PlainTextResponse("OK", status_code=self.status)


@contextmanager
def live_gateway_simulator(**overrides: Any) -> Iterator[LiveGatewaySimulator]:
    simulator = LiveGatewaySimulator(simulator_settings(**overrides)).start()
    try:
        yield simulator
    finally:
        simulator.stop()


@contextmanager
def merchant() -> Iterator[Merchant]:
    server = Merchant().start()
    try:
        yield server
    finally:
        server.stop()
