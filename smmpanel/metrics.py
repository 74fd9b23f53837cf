"""Prometheus metrics: what the API answered, how fast, and how the engine keeps up.

Counters and histograms live in the process that counts them. Under
``serve --workers N`` they go to prometheus_client's multiprocess files (``serve`` sets
``PROMETHEUS_MULTIPROC_DIR``) and any process's ``/metrics`` adds them all up. Gauges of
the database (orders by status, queue depth and lag) are read at scrape time, the same
from any process. A separate ``smmpanel worker`` serves no HTTP: its upstream error
counts are not exported (``smmpanel provider list`` shows each provider's last error).

Labels are bounded: actions are the API's own names or ``unknown``; outcomes are the
fixed classes of ``OUTCOMES``, never an error text; providers are the operator's own.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from smmpanel.config import API_ACTIONS
from smmpanel.domain import messages as msg

# No ``*_created`` series: they double the output and nobody graphs them.
disable_created_metrics()  # type: ignore[no-untyped-call]

API_REQUESTS = Counter("smmpanel_api_requests", "API v2 requests by action and outcome", ["action", "outcome"])
API_LATENCY = Histogram("smmpanel_api_request_duration_seconds", "API v2 request duration by action", ["action"])
UPSTREAM_ERRORS = Counter("smmpanel_upstream_errors", "Failed exchanges with upstream providers", ["provider"])

RATE_LIMITED = "Too many requests"
_CLASSES: dict[str, str] = {
    msg.INVALID_KEY: "invalid_key",
    msg.INCORRECT_REQUEST: "incorrect_request",
    msg.NOT_ENOUGH_FUNDS: "insufficient_funds",
    msg.INCORRECT_SERVICE: "incorrect_service",
    msg.INCORRECT_ORDER: "not_found",
    msg.REFILL_NOT_FOUND: "not_found",
    msg.REFILL_NOT_AVAILABLE: "not_available",
    msg.REFILL_NOT_AVAILABLE_FOR_ORDER: "not_available",
    msg.CANCEL_NOT_AVAILABLE: "not_available",
    msg.CANCEL_NOT_AVAILABLE_FOR_ORDER: "not_available",
    msg.ACTIVE_ORDER_WITH_LINK: "duplicate_link",
    RATE_LIMITED: "rate_limited",
}
_TRANSPORT = ("Malformed request", "Unsupported content type", "Request body too large")
OUTCOMES = frozenset({*_CLASSES.values(), "ok", "invalid_parameters", "transport", "server_error"})
"""Every value the ``outcome`` label can take."""


def action_label(action: str) -> str:
    return action if action in API_ACTIONS else "unknown"


def outcome_of(error: str | None, status: int) -> str:
    """The class of an API answer: ``ok``, or one of a few fixed error classes."""
    if status >= 500:
        return "server_error"
    if error is None:
        return "ok"
    if error in _CLASSES:
        return _CLASSES[error]
    return "transport" if error.startswith(_TRANSPORT) else "invalid_parameters"


_requests: dict[tuple[str, str], Any] = {}
_latencies: dict[str, Any] = {}


def api_request(label: str, outcome: str, seconds: float) -> None:
    """Count one API answer (``action_label`` and ``outcome_of`` give its labels; the caller logs
    them too). The labelled children are kept (bounded: actions × outcomes), which spares
    ``labels()`` its lock and lookups on every request."""
    counter = _requests.get((label, outcome))
    if counter is None:
        counter = _requests[label, outcome] = API_REQUESTS.labels(label, outcome)
    latency = _latencies.get(label)
    if latency is None:
        latency = _latencies[label] = API_LATENCY.labels(label)
    counter.inc()
    latency.observe(seconds)


def upstream_error(provider: str) -> None:
    """One failed exchange with ``provider``: counted where the engine records the provider's health."""
    UPSTREAM_ERRORS.labels(provider).inc()


def exposition(*extra: CollectorRegistry) -> bytes:
    """This process's metrics (all processes' under multiprocess mode), then ``extra`` registries."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    return b"".join([generate_latest(registry), *(generate_latest(r) for r in extra)])
