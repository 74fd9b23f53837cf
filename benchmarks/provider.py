"""The simulated provider for benchmarks, as its own process: preloaded orders, no access log.

``python -m benchmarks.provider --port 8100 --preload 100000`` serves the simulator
(``smmpanel.providers.simulator``) with orders 1..N already placed and pinned at one
state, so a panel loaded by ``benchmarks.loader`` finds every upstream order it asks
about. ``GET /_sim/stats`` also counts the order ids asked about in ``status`` calls
(``status_ids``), which tells when every order has been checked once.

For the soak run (``benchmarks.soak``) two more controls: ``POST /_sim/settings`` changes
``latency`` and ``error_rate`` while it serves (restarting it would forget every order,
which no real provider does), and ``GET /_sim/orders`` lists every order it received
with its link, so a run can tell whether the panel sent any order twice.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, replace

import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.api.params import Params, id_list
from smmpanel.api.v2 import json_response
from smmpanel.domain.orders import OrderStatus
from smmpanel.providers.simulator import Simulator, SimulatorSettings, create_simulator_app, operator_params

API_KEY = "bench-simulator-key"


@dataclass
class CountingSimulator(Simulator):
    """The simulator, also counting the order ids asked about in ``status`` calls."""

    status_ids: int = 0

    def handle(self, params: Params, now: int) -> object:
        if params.get("action") == "status":
            self.status_ids += len(id_list(params["orders"])) if "orders" in params else 1
        return super().handle(params, now)

    def stats(self, now: int) -> dict[str, object]:
        return {**super().stats(now), "status_ids": self.status_ids}


LIVE_SETTINGS = ("latency", "error_rate")
"""What ``POST /_sim/settings`` may change: the simulator reads both afresh on every call."""


async def _change_settings(request: Request) -> Response:
    """``POST /_sim/settings`` with ``latency`` and/or ``error_rate``: a provider's bad day, on cue."""
    simulator: Simulator = request.app.state.simulator
    params = await operator_params(request)
    if isinstance(params, Response):
        return params
    try:
        current = simulator.settings
        latency = float(params.get("latency", current.latency))
        error_rate = float(params.get("error_rate", current.error_rate))
        async with simulator.lock:  # the settings validate themselves
            simulator.settings = replace(current, latency=latency, error_rate=error_rate)
    except ValueError as error:
        return json_response({"error": str(error)}, status_code=400)
    return json_response({name: getattr(simulator.settings, name) for name in LIVE_SETTINGS})


async def _orders(request: Request) -> Response:
    """``GET /_sim/orders?key=…``: every order received, oldest first, with what identifies it."""
    simulator: Simulator = request.app.state.simulator
    refused = await operator_params(request)
    if isinstance(refused, Response):
        return refused
    async with simulator.lock:
        listing = [
            {"order": order.id, "link": order.request.link, "service": order.service.id, "runs": order.request.runs}
            for order in simulator.orders.values()
        ]
    return json_response(listing)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.provider", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--preload", type=int, default=0, help="orders 1..N already placed")
    parser.add_argument("--quantity", type=int, default=1000)
    parser.add_argument("--status", default=OrderStatus.IN_PROGRESS.value, help="the preloaded orders' status")
    parser.add_argument("--start-count", type=int, default=0)
    parser.add_argument("--remains", type=int, help="the preloaded orders' remains (default: the quantity)")
    parser.add_argument("--seconds-per-step", type=float, default=3600.0, help="new orders: Pending, In progress, done")
    parser.add_argument("--partial-rate", type=float, default=0.0, help="share of new orders that end Partial")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("benchmarks serve on loopback only")
    settings = SimulatorSettings(
        api_key=API_KEY,
        seconds_per_step=args.seconds_per_step,
        partial_rate=args.partial_rate,
        balance="1000000000.00",
        seed=args.seed,
    )
    app = create_simulator_app(settings)
    app.add_route("/_sim/settings", _change_settings, methods=["POST"])
    app.add_route("/_sim/orders", _orders, methods=["GET"])
    simulator = CountingSimulator(settings)
    simulator.preload(
        args.preload,
        quantity=args.quantity,
        status=OrderStatus(args.status),
        start_count=args.start_count,
        remains=args.remains,
    )
    app.state.simulator = simulator
    print(f"simulator ready on {args.host}:{args.port} with {args.preload} orders", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
