"""``smmpanel serve``: migrate, optionally seed the demo, then serve HTTP with uvicorn."""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import uvicorn

from smmpanel.app import create_app
from smmpanel.config import Settings
from smmpanel.db.engine import async_url, is_sqlite
from smmpanel.db.migrate import upgrade
from smmpanel.db.unit_of_work import Database
from smmpanel.errors import Refused
from smmpanel.gateways.stripe import EVENTS
from smmpanel.logging_setup import configure_logging
from smmpanel.providers.simulator import SimulatorSettings
from smmpanel.simulators.demo_gateways import demo_simulator as demo_gateway_simulator
from smmpanel.simulators.localstripe import LocalStripe
from smmpanel.usecases import demo_gateways, demo_payments
from smmpanel.usecases.demo import DemoData, demo_simulator_key, load_demo
from smmpanel.usecases.demo_gateways import load_simulated_gateways
from smmpanel.usecases.demo_payments import load_demo_gateways
from smmpanel.usecases.payments import webhook_path


def demo_simulator(api_key: str) -> SimulatorSettings:
    """The demo's provider: orders finish in about 15 seconds, one in ten Partial. Its key is made
    for each demo panel and kept in the panel's provider record (``usecases.demo``)."""
    return SimulatorSettings(api_key=api_key, seconds_per_step=5.0, partial_rate=0.1)


DEMO_SYNC_INTERVAL = 3.0
"""Seconds between status checks in the demo, so that a newcomer sees orders move."""


def _demo_simulator_state(settings: Settings) -> str:
    """Beside the SQLite file (or in the working directory): the demo's provider keeps counting
    its order ids where it stopped, so the panel's earlier orders are never given twice."""
    url = async_url(settings.database_url)
    if is_sqlite(url) and url.database and url.database != ":memory:":
        return f"{url.database}.simulator.json"
    return "smmpanel-demo-simulator.json"


async def _load_demo(settings: Settings, local: str, fake_stripe: LocalStripe | None) -> tuple[DemoData | None, str]:
    """The demo data (None when the panel had its own already) and the demo provider simulator's key."""
    db = Database(settings.database_url, pool_size=1)
    try:
        key = await demo_simulator_key(db)
        loaded = await load_demo(db, simulator_url=f"{local}/simulator/api/v2", simulator_key=key)
        api, js = (fake_stripe.base_url, fake_stripe.js_url) if fake_stripe else (None, None)
        await load_demo_gateways(db, stripe_api=api, stripe_js=js)
        await load_simulated_gateways(db, demo_gateways.demo_gateways(local), add=loaded is not None)
        return loaded, key
    finally:
        await db.close()


def _demo_stripe(panel_url: str) -> LocalStripe | None:
    """localstripe beside the demo panel, its signed webhooks sent to the demo's card gateway."""
    try:
        fake = LocalStripe().start()
    except RuntimeError as error:
        print(f"demo card payments are off: {error}", flush=True)
        return None
    atexit.register(fake.stop)
    fake.register_webhook(panel_url + webhook_path(demo_payments.CARD), demo_payments.WEBHOOK_SECRET, EVENTS)
    print(f"demo card payments: localstripe at {fake.base_url} (card 4242 4242 4242 4242)", flush=True)
    return fake


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Logging is ours (``logging_setup``, one line per request from the middleware); on SIGTERM
    uvicorn stops accepting, lets requests in flight finish for up to ``shutdown_timeout``
    seconds, then runs the app's shutdown, where the engine ends its pass."""
    return {
        "log_config": None,
        "log_level": settings.log_level.lower(),
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": max(1, round(settings.shutdown_timeout)),
    }


def _multiprocess_metrics(port: int) -> None:
    """Give the API processes one directory for prometheus_client's multiprocess mode.

    Set before uvicorn spawns its processes, which import prometheus_client afresh and so
    write their counters there; any one of them then answers ``/metrics`` for all. One
    directory per port, emptied at start (counts of an earlier run, even one that was
    killed, must not be added in) and removed at exit.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return  # the operator's own directory: they clear it between runs
    directory = Path(tempfile.gettempdir()) / f"smmpanel-metrics-{port}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    atexit.register(shutil.rmtree, directory, ignore_errors=True)


def serve(settings: Settings, *, host: str, port: int, demo_data: bool, workers: int = 1) -> None:
    """Serve until stopped; ``workers`` API processes share the port (PostgreSQL only)."""
    if workers > 1 and is_sqlite(async_url(settings.database_url)):
        raise Refused("SQLite is served by one process: use PostgreSQL for --workers above 1")
    configure_logging(settings.log_format, settings.log_level)
    upgrade(settings.database_url)
    base = f"http://{host}:{port}"
    gateway_simulator = None
    print(f"smmpanel is serving at {base}/  (API v2: {base}/api/v2)", flush=True)
    simulator: SimulatorSettings | None = None
    if demo_data:
        local = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
        loaded, simulator_key = asyncio.run(_load_demo(settings, local, _demo_stripe(local)))
        simulator = replace(demo_simulator(simulator_key), state_file=_demo_simulator_state(settings))
        paypal_webhook = local + webhook_path(demo_gateways.PAYPAL)
        gateway_simulator = demo_gateway_simulator(paypal_webhook, secrets.token_urlsafe(18))
        print(
            f"payment-gateway simulator (PayPal, Perfect Money, Cryptomus) at {base}/simulator/gateways;"
            f" its /_sim/ controls take the header X-Simulator-Key: {gateway_simulator.control_key}",
            flush=True,
        )
        if loaded is None:
            print("demo data: the panel already has customers, nothing loaded", flush=True)
        else:
            customer, key = loaded.customer.username, loaded.customer.api_key
            print(f"demo customer '{customer}', API key: {key}, dashboard password: {loaded.password}", flush=True)
            print(f"demo operator '{loaded.admin_username}', dashboard password: {loaded.admin_password}", flush=True)
            print(f"try: curl -d 'key={loaded.customer.api_key}&action=balance' {base}/api/v2", flush=True)
    if workers > 1:
        os.environ["SMMPANEL_RUN_ENGINE"] = "true" if settings.run_engine else "false"
        _multiprocess_metrics(port)
        uvicorn.run(
            "smmpanel.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **_uvicorn_options(settings),
        )
        return
    if demo_data and "sync_interval" not in settings.model_fields_set:
        settings = settings.model_copy(update={"sync_interval": DEMO_SYNC_INTERVAL})
    app = create_app(settings, simulator=simulator, gateway_simulator=gateway_simulator)
    uvicorn.run(app, host=host, port=port, **_uvicorn_options(settings))
