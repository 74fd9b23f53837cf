"""The payment-gateway simulator: PayPal, Perfect Money and Cryptomus on one ASGI app.

None of the three offers a local emulator, so the panel's adapters are tested (and the
demo takes money) against this app. Each gateway lives under its own prefix and speaks
its real wire format there, so that an adapter only needs its base URL changed:

- ``/paypal/...``        PayPal's REST API (``api-m.paypal.com``) and its checkout page
- ``/perfectmoney/...``  Perfect Money's SCI (``perfectmoney.com``): ``/api/step1.asp``
- ``/cryptomus/...``     Cryptomus's merchant API (``api.cryptomus.com``) and its pay page

``/_sim/...`` is for tests and the operator only and needs the ``X-Simulator-Key``
header set to the key the simulator was started with (there is no default key): it
lists the callbacks the gateways sent, sends one again (or fifty copies at once), sends
a forged copy, pays a Perfect Money or Cryptomus payment without a browser, and changes
what an order or invoice asks for. State is in memory; a restart forgets everything.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.gateways.perfectmoney import ACCOUNT_UNITS
from smmpanel.simulators import cryptomus, paypal, paypal_http, paypal_webhooks, perfectmoney
from smmpanel.simulators.common import (
    JSON_TYPE,
    Delivery,
    Ids,
    Outbox,
    control_options,
    json_answer,
)

KEY_HEADER = "X-Simulator-Key"
MAX_COPIES = 200


@dataclass(frozen=True)
class GatewaySimulatorSettings:
    control_key: str
    """Guards ``/_sim/``; chosen by whoever starts the simulator."""
    paypal_apps: Mapping[str, str] = field(default_factory=dict)
    """PayPal REST apps: client id → secret."""
    paypal_webhooks: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Webhooks registered before the simulator starts: webhook id → (client id, URL), for every event."""
    perfectmoney_accounts: Mapping[str, str] = field(default_factory=dict)
    """Perfect Money payee accounts (``U…`` for USD, ``E…`` for EUR) → alternate passphrase."""
    cryptomus_merchants: Mapping[str, str] = field(default_factory=dict)
    """Cryptomus merchants: merchant uuid → payment API key."""
    notify: bool = True
    """Send callbacks on their own when a payment happens; off, they are only recorded."""
    seed: int | None = None
    """Reproducible identifiers."""
    callback_timeout: float = 10.0

    def __post_init__(self) -> None:
        if len(self.control_key) < 8:
            raise ValueError("the simulator's control key must have at least 8 characters")
        if self.callback_timeout <= 0:
            raise ValueError("callback_timeout must be positive")
        for client_id, _ in self.paypal_webhooks.values():
            if client_id not in self.paypal_apps:
                raise ValueError(f"PayPal webhook of unknown app {client_id!r}")
        for account in self.perfectmoney_accounts:
            if account[:1] not in ACCOUNT_UNITS or not account[1:].isdigit():
                raise ValueError(f"Perfect Money account {account!r}: a U or E and digits, like U1234567")


def _outbox(request: Request) -> Outbox:
    outbox: Outbox = request.app.state.outbox
    return outbox


def _guarded(route: Route) -> Route:
    """The same route, answering 401 unless the request carries the control key."""
    endpoint: Callable[[Request], Awaitable[Response]] = route.endpoint

    async def guarded(request: Request) -> Response:
        expected: str = request.app.state.control_key
        given = request.headers.get(KEY_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return json_answer({"error": f"the {KEY_HEADER} header is missing or wrong"}, 401)
        return await endpoint(request)

    return Route(route.path, guarded, methods=sorted(route.methods or ()), name=route.name)


def _delivery(request: Request) -> Delivery | None:
    return _outbox(request).deliveries.get(request.path_params["delivery_id"])


async def list_deliveries(request: Request) -> Response:
    """``GET /_sim/deliveries[?gateway=paypal]``: every callback, oldest first."""
    gateway = request.query_params.get("gateway")
    found = [d.describe() for d in _outbox(request).deliveries.values() if gateway in (None, d.gateway)]
    return json_answer({"deliveries": found})


async def send_delivery(request: Request) -> Response:
    """``POST /_sim/deliveries/{id}/send`` (``{"copies": N}``): the same request again, N at once."""
    delivery = _delivery(request)
    if delivery is None:
        return json_answer({"error": "no such delivery"}, 404)
    options = await control_options(request)
    if isinstance(options, Response):
        return options
    copies = options.get("copies", 1)
    if not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        return json_answer({"error": f"copies must be a whole number from 1 to {MAX_COPIES}"}, 400)
    outbox = _outbox(request)
    outcomes = await asyncio.gather(*(outbox.send(delivery) for _ in range(copies)))
    return json_answer({"delivery": delivery.describe(), "outcomes": outcomes})


async def forge_delivery(request: Request) -> Response:
    """``POST /_sim/deliveries/{id}/forge``: a copy with ``set`` fields and ``headers`` changed, sent.

    ``set`` maps a field (a dotted path into a JSON body, a name in a form body) to its
    new value; the signature stays the gateway's original unless ``set`` or ``headers``
    replace it too. ``{"send": false}`` records the forgery without sending it.
    """
    delivery = _delivery(request)
    if delivery is None:
        return json_answer({"error": "no such delivery"}, 404)
    options = await control_options(request)
    if isinstance(options, Response):
        return options
    changes, headers = options.get("set", {}), options.get("headers", {})
    if not isinstance(changes, dict) or not isinstance(headers, dict):
        return json_answer({"error": "set and headers are JSON objects"}, 400)
    try:
        body = _altered(delivery, changes)
    except (KeyError, TypeError, ValueError) as error:
        return json_answer({"error": f"cannot change that field: {error}"}, 400)
    outbox = _outbox(request)
    forged = outbox.forge(delivery, {**delivery.headers, **{str(k): str(v) for k, v in headers.items()}}, body)
    if options.get("send", True):
        await outbox.send(forged)
    return json_answer({"delivery": forged.describe()})


def _altered(delivery: Delivery, changes: Mapping[str, object]) -> bytes:
    if not changes:
        return delivery.body
    if delivery.headers.get("Content-Type", "").startswith(JSON_TYPE):
        document = json.loads(delivery.body)
        for path, value in changes.items():
            *parents, last = path.split(".")
            target = document
            for name in parents:
                target = target[name]
            target[last] = value
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    fields = dict(parse_qsl(delivery.body.decode(), keep_blank_values=True))
    fields.update({name: str(value) for name, value in changes.items()})
    return urlencode(fields).encode()


CONTROL_ROUTES = [
    Route("/_sim/deliveries", list_deliveries, methods=["GET"]),
    Route("/_sim/deliveries/{delivery_id:int}/send", send_delivery, methods=["POST"]),
    Route("/_sim/deliveries/{delivery_id:int}/forge", forge_delivery, methods=["POST"]),
    *paypal_http.control_routes,
    *perfectmoney.control_routes,
    *cryptomus.control_routes,
]


def create_gateway_simulator_app(settings: GatewaySimulatorSettings) -> Starlette:
    """The three gateways with their test controls; mount it anywhere (the demo uses ``/simulator/gateways``)."""
    routes = [*paypal_http.routes, *perfectmoney.routes, *cryptomus.routes, *map(_guarded, CONTROL_ROUTES)]
    app = Starlette(routes=routes)
    ids = Ids(settings.seed)
    outbox = Outbox(settings.callback_timeout)
    app.state.control_key = settings.control_key
    app.state.outbox = outbox
    app.state.paypal = paypal.PayPal(dict(settings.paypal_apps), ids)
    app.state.paypal_webhooks = paypal_webhooks.PayPalWebhooks(outbox, ids, settings.notify)
    for webhook_id, (client_id, url) in settings.paypal_webhooks.items():
        app.state.paypal_webhooks.webhooks[webhook_id] = paypal_webhooks.Webhook(webhook_id, client_id, url, ("*",))
    app.state.perfectmoney = perfectmoney.PerfectMoney(
        dict(settings.perfectmoney_accounts), outbox, ids, settings.notify
    )
    app.state.cryptomus = cryptomus.Cryptomus(dict(settings.cryptomus_merchants), outbox, ids, settings.notify)
    return app
