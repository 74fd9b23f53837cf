"""The operator's HTTP probes: ``/healthz`` (the process is up), ``/readyz`` (the database
answers) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel import metrics
from smmpanel.db.unit_of_work import Database
from smmpanel.usecases.operations import PanelGauges, database_ready, panel_gauges

log = logging.getLogger("smmpanel.metrics")

READY_TIMEOUT = 5.0
"""Seconds ``/readyz`` waits for the database before calling it unreachable."""
GAUGES_MAX_AGE = 5.0
"""Seconds the database gauges are reused: scrapes from several Prometheus servers cost one query set."""


def _json(body: bytes, status_code: int = 200) -> Response:
    return Response(body, status_code=status_code, media_type="application/json; charset=utf-8")


async def healthz(request: Request) -> Response:
    return _json(b'{"status":"ok"}')


async def readyz(request: Request) -> Response:
    try:
        ready = await asyncio.wait_for(database_ready(request.app.state.db), READY_TIMEOUT)
    except TimeoutError:
        ready = False
    if ready:
        return _json(b'{"status":"ready"}')
    return _json(b'{"status":"unavailable","error":"database unreachable"}', status_code=503)


class PanelCollector(Collector):
    """Gauges read from the database, refreshed at most every ``GAUGES_MAX_AGE`` seconds."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._gauges: PanelGauges | None = None
        self._read_at = -GAUGES_MAX_AGE
        self._lock = asyncio.Lock()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    async def refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._read_at < GAUGES_MAX_AGE:
                return
            try:
                self._gauges = await asyncio.wait_for(panel_gauges(self._db), READY_TIMEOUT)
            except Exception as error:  # the scrape still answers, with the database marked down
                log.warning("metrics: database gauges unavailable (%s)", type(error).__name__)
                self._gauges = None
            self._read_at = time.monotonic()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauges = self._gauges
        yield GaugeMetricFamily(
            "smmpanel_database_up", "1 when the last read of the gauges succeeded", int(gauges is not None)
        )
        if gauges is None:
            return
        by_status = GaugeMetricFamily("smmpanel_orders", "Orders by status", labels=["status"])
        for status, count in gauges.orders_by_status.items():
            by_status.add_metric([status], count)
        yield by_status
        depth = GaugeMetricFamily("smmpanel_engine_queue_depth", "Orders by engine state", labels=["state"])
        for state, count in sorted(gauges.queue_depths.items()):
            depth.add_metric([state], count)
        yield depth
        yield GaugeMetricFamily(
            "smmpanel_engine_queue_lag_seconds",
            "Age of the oldest due item: a queued send or a sync",
            gauges.queue_lag_seconds,
        )


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text; with ``SMMPANEL_METRICS_TOKEN`` only for ``Authorization: Bearer <token>``."""
    state = request.app.state
    token: str | None = state.settings.metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return Response(b"unauthorized\n", status_code=401, media_type="text/plain")
    collector: PanelCollector = state.panel_metrics
    await collector.refresh()
    return Response(metrics.exposition(collector.registry), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics_endpoint, methods=["GET"]),
]
