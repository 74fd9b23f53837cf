"""The simulated provider for benchmarks, as its own process: preloaded orders, no access log.

``python -m benchmarks.provider --port 8100 --preload 100000`` serves the simulator
(``smmpanel.providers.simulator``) with orders 1..N already placed and pinned at one
state, so a panel loaded by ``benchmarks.loader`` finds every upstream order it asks
about. ``GET /_sim/stats`` also counts the order ids asked about in ``status`` calls
(``status_ids``), which tells when every order has been checked once.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

import uvicorn

from smmpanel.api.params import Params, id_list
from smmpanel.domain.orders import OrderStatus
from smmpanel.providers.simulator import Simulator, SimulatorSettings, create_simulator_app

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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.provider", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--preload", type=int, default=0, help="orders 1..N already placed")
    parser.add_argument("--quantity", type=int, default=1000)
    parser.add_argument("--status", default=OrderStatus.IN_PROGRESS.value, help="the preloaded orders' status")
    parser.add_argument("--start-count", type=int, default=0)
    parser.add_argument("--remains", type=int, help="the preloaded orders' remains (default: the quantity)")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("benchmarks serve on loopback only")
    settings = SimulatorSettings(api_key=API_KEY, seconds_per_step=3600.0, balance="1000000000.00", seed=1)
    app = create_simulator_app(settings)
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
