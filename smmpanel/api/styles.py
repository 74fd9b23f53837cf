"""The two JSON dialects of API v2 (see API_CONTRACT.md, "Response style").

They carry the same facts and differ only in JSON types and in the cancel answer,
so one table of switches covers both.
"""

from __future__ import annotations

from dataclasses import dataclass

from smmpanel.clock import iso_utc
from smmpanel.domain.catalog import Service
from smmpanel.domain.dripfeed import remaining_runs, schedule_status
from smmpanel.domain.orders import Order, OrderProgress
from smmpanel.domain.subscriptions import delay_minutes, per_post_range, posts_limit, remaining_posts
from smmpanel.money import format_amount

JsonObject = dict[str, object]


@dataclass(frozen=True)
class ResponseStyle:
    name: str
    counts_as_strings: bool
    """min/max of services, start_count/remains of orders: ``"50"`` rather than ``50``."""
    single_refill_as_string: bool
    description_always: bool
    cancel_success: object

    def count(self, value: int) -> object:
        return str(value) if self.counts_as_strings else value

    def service(self, service: Service) -> JsonObject:
        item: JsonObject = {
            "service": service.id,
            "name": service.name,
            "type": service.type.value,
            "category": service.category,
            "rate": format_amount(service.rate),
            "min": self.count(service.min),
            "max": self.count(service.max),
            "refill": service.refill,
            "cancel": service.cancel,
        }
        if self.description_always or service.description:
            item["description"] = service.description
        return item

    def order_status(self, order: Order | OrderProgress, currency: str) -> JsonObject:
        return {
            "charge": format_amount(order.charge),
            "start_count": self.count(order.start_count),
            "status": order.status.value,
            "remains": self.count(order.remains),
            "currency": currency,
        }

    def single_refill(self, refill_id: int) -> object:
        return str(refill_id) if self.single_refill_as_string else refill_id


STYLES = {
    "perfectpanel": ResponseStyle(
        "perfectpanel",
        counts_as_strings=True,
        single_refill_as_string=True,
        description_always=False,
        cancel_success=1,
    ),
    "viralhub": ResponseStyle(
        "viralhub",
        counts_as_strings=False,
        single_refill_as_string=False,
        description_always=True,
        cancel_success={"status": "success"},
    ),
}


def subscription(order: Order, *, per_post: bool = False) -> JsonObject:
    """One schedule in the ViralHub shape: a drip-feed, or (``per_post``) a Subscriptions-type order,
    whose posts are its runs (``smmpanel.domain.subscriptions``)."""
    runs: int | None
    interval: int | None
    remaining: int | None
    if per_post:
        quantity, runs, interval = per_post_range(order)[1], posts_limit(order), delay_minutes(order)
        remaining = remaining_posts(order)
    else:
        quantity, runs, interval, remaining = order.quantity, order.runs or 1, order.interval, remaining_runs(order)
    return {
        "id": order.id,
        "service": order.service_id,
        "link": order.link,
        "quantity": quantity,
        "runs": runs,
        "interval": interval,
        "remaining_runs": remaining,
        "status": schedule_status(order),
        "created_at": iso_utc(order.created_at),
    }
