"""The soak run's customers: a mixed API v2 load, every request timed and every outcome kept.

A soak run is judged afterwards against what the customers were told, so the load keeps it
all: each request's latency and outcome under the phase it started in, every order the API
accepted with the charge it must have cost, and the orders whose answer never came (a
timeout, a 5xx, a dropped connection), which may exist or not. Each ``add`` names a link of
its own, so the audit can find an order in the database and at the provider by its link.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from smmpanel.money import Units, parse_amount, per_thousand_charge

MIX: tuple[tuple[str, int], ...] = (
    ("add", 40),
    ("add-drip", 5),
    ("status-1", 15),
    ("status-many", 12),
    ("balance", 12),
    ("cancel", 8),
    ("refill", 8),
)
"""Actions and their weights: mostly orders and status checks, as resellers' scripts send."""
REQUEST_TIMEOUT = 30.0
STATUS_MANY = 50
"""Order ids in one ``status`` call with ``orders``."""


@dataclass(frozen=True)
class Customer:
    username: str
    key: str


@dataclass(frozen=True)
class Service:
    """The panel's service the load orders, as its ``services`` answer shows it."""

    id: int
    rate: Units
    min: int
    max: int


@dataclass(frozen=True)
class Sample:
    phase: str
    at: float
    """Seconds into the run when the request was sent."""
    action: str
    seconds: float
    outcome: str
    """``ok``, ``refused`` (a JSON ``error`` answer), ``http NNN``, ``transport <error>``, ``not JSON``."""


@dataclass(frozen=True)
class Accepted:
    """An order the API accepted: it must exist once, with this charge in the ledger."""

    order_id: int
    username: str
    link: str
    charge: Units


@dataclass
class Record:
    samples: list[Sample] = field(default_factory=list)
    accepted: dict[int, Accepted] = field(default_factory=dict)
    uncertain: dict[str, str] = field(default_factory=dict)
    """Link → username of the adds answered with neither an order id nor a refusal."""
    refusals: Counter[str] = field(default_factory=Counter)
    """``action: message`` of the JSON ``error`` answers: expected ones, such as funds running out."""
    server_errors: list[str] = field(default_factory=list)
    """The first few bodies of 5xx answers, as the customer saw them."""
    completed: dict[str, set[int]] = field(default_factory=dict)
    """Username → ids a status answer called Completed: the orders worth asking a refill for."""


def outcome_of(response: httpx.Response) -> tuple[str, Any]:
    """What a customer got: a class of outcome, and the decoded JSON (None when there is none)."""
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return f"http {response.status_code} not JSON", None
    if response.status_code != 200:
        return f"http {response.status_code}", data
    if isinstance(data, dict) and "error" in data:
        return "refused", data
    return "ok", data


class Load:
    """Customers sending a weighted mix of actions, at most ``rate`` requests/s, ``concurrency`` at once."""

    def __init__(
        self,
        api_url: str,
        customers: list[Customer],
        service: Service,
        *,
        concurrency: int,
        rate: float,
        seed: int,
    ) -> None:
        self.api_url = api_url
        self.customers = customers
        self.service = service
        self.concurrency = concurrency
        self.interval = 1.0 / rate
        self.random = random.Random(seed)
        self.phase = "before"
        """Set by the fault schedule; each request is filed under the phase it started in."""
        self.began = 0.0
        """``time.monotonic()`` when the run began."""
        self.record = Record()
        self._next_slot = 0.0
        self._links = 0
        self._orders: dict[str, list[int]] = {customer.username: [] for customer in customers}

    async def run(self, stop: asyncio.Event, began: float) -> None:
        """Send requests until ``stop`` is set, then wait for the ones in flight."""
        self.began = began
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits) as client:
            await asyncio.gather(*(self._customer_loop(client, stop) for _ in range(self.concurrency)))

    async def _customer_loop(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        actions, weights = zip(*MIX, strict=True)
        while not stop.is_set():
            await self._pace()
            if stop.is_set():
                return
            customer = self.random.choice(self.customers)
            action = self.random.choices(actions, weights)[0]
            await self._send(client, customer, action)

    async def _pace(self) -> None:
        """Spread requests evenly: each task takes the next free slot of the shared schedule."""
        now = time.monotonic()
        self._next_slot = max(now, self._next_slot) + self.interval
        await asyncio.sleep(self._next_slot - now)

    def _params(self, customer: Customer, action: str) -> tuple[dict[str, str], Accepted | None]:
        """The request for ``action``, and for an ``add`` the order it would make (id still 0)."""
        mine = self._orders[customer.username]
        if action in ("add", "add-drip"):
            self._links += 1
            link = f"https://example.com/soak/{customer.username}/{self._links}"
            quantity = self.random.randrange(self.service.min, min(self.service.max, 1000) + 1)
            params = {"action": "add", "service": str(self.service.id), "link": link, "quantity": str(quantity)}
            runs = 1
            if action == "add-drip":
                runs = self.random.choice((1, 2))
                params.update(runs=str(runs), interval="1")
            charge = per_thousand_charge(self.service.rate, quantity * runs)
            return params, Accepted(0, customer.username, link, charge)
        if action == "status-1" and mine:
            return {"action": "status", "order": str(self.random.choice(mine))}, None
        if action == "status-many" and mine:
            ids = self.random.sample(mine, min(len(mine), STATUS_MANY))
            return {"action": "status", "orders": ",".join(map(str, ids))}, None
        if action == "cancel" and mine:
            return {"action": "cancel", "orders": str(self.random.choice(mine[-20:]))}, None
        completed = sorted(self.record.completed.get(customer.username, ()))
        if action == "refill" and completed:
            return {"action": "refill", "order": str(self.random.choice(completed))}, None
        return {"action": "balance"}, None

    async def _send(self, client: httpx.AsyncClient, customer: Customer, action: str) -> None:
        params, order = self._params(customer, action)
        if params["action"] == "balance":
            action = "balance"
        phase, started = self.phase, time.monotonic()
        try:
            response = await client.post(self.api_url, data={"key": customer.key, **params})
        except httpx.HTTPError as error:
            outcome, data = f"transport {type(error).__name__}", None
        else:
            outcome, data = outcome_of(response)
            if response.status_code >= 500 and len(self.record.server_errors) < 5:
                self.record.server_errors.append(f"{phase} {action}: HTTP {response.status_code} {response.text[:200]}")
        self.record.samples.append(Sample(phase, started - self.began, action, time.monotonic() - started, outcome))
        if outcome == "refused":
            self.record.refusals[f"{action}: {data and data['error']}"] += 1
        elif outcome == "ok":
            self._remember(customer, params, order, data)
        elif order is not None:  # no answer to go by: the order may exist or not
            self.record.uncertain[order.link] = customer.username

    def _remember(self, customer: Customer, params: dict[str, str], order: Accepted | None, data: Any) -> None:
        if order is not None:
            order_id = int(data["order"])
            self.record.accepted[order_id] = Accepted(order_id, order.username, order.link, order.charge)
            self._orders[customer.username].append(order_id)
        elif params["action"] == "status":
            answers = data.items() if "orders" in params else [(params["order"], data)]
            done = {int(key) for key, item in answers if isinstance(item, dict) and item.get("status") == "Completed"}
            self.record.completed.setdefault(customer.username, set()).update(done)


def service_of(answer: object, service_id: int) -> Service:
    """The load's service from a ``services`` answer."""
    assert isinstance(answer, list), answer
    item = next(item for item in answer if int(item["service"]) == service_id)
    return Service(service_id, parse_amount(str(item["rate"])), int(item["min"]), int(item["max"]))


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (``share`` 0.5 for the median); 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]
