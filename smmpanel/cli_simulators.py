"""``smmpanel simulate-gateways``: the payment-gateway simulator on its own port, for trials.

The demo serves the simulator inside the panel; this serves it alone, with the credentials
given, so that a panel anywhere can be pointed at it (``--api-base`` of each gateway).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import uvicorn

from smmpanel.cli_support import CliError, count_arg
from smmpanel.simulators.gateways import KEY_HEADER, GatewaySimulatorSettings, create_gateway_simulator_app


def _pair(text: str) -> tuple[str, str]:
    name, sep, secret = text.partition(":")
    if not sep or not name or not secret:
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME:SECRET")
    return name, secret


def add_simulator_commands(groups: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    sub = command(groups, "simulate-gateways", None, "serve simulated PayPal, Perfect Money and Cryptomus")
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=count_arg, default=8200)
    sub.add_argument("--control-key", required=True, help=f"what /_sim/ controls need in {KEY_HEADER}")
    sub.add_argument("--paypal", type=_pair, action="append", default=[], help="a REST app, CLIENT_ID:SECRET")
    sub.add_argument("--perfectmoney", type=_pair, action="append", default=[], help="ACCOUNT:ALTERNATE_PASSPHRASE")
    sub.add_argument("--cryptomus", type=_pair, action="append", default=[], help="MERCHANT_UUID:PAYMENT_API_KEY")
    sub.add_argument("--no-notify", action="store_true", help="record callbacks without sending them")
    sub.add_argument("--seed", type=int)


def simulate_gateways(args: argparse.Namespace) -> None:
    try:
        settings = GatewaySimulatorSettings(
            control_key=args.control_key,
            paypal_apps=dict(args.paypal),
            perfectmoney_accounts=dict(args.perfectmoney),
            cryptomus_merchants=dict(args.cryptomus),
            notify=not args.no_notify,
            seed=args.seed,
        )
    except ValueError as error:
        raise CliError(str(error)) from None
    base = f"http://{args.host}:{args.port}"
    print(f"gateway simulator at {base}/paypal, {base}/perfectmoney and {base}/cryptomus", flush=True)
    app = create_gateway_simulator_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", server_header=False)
