"""A forwarded Subscriptions order follows the provider's subscription, post by post.

Such an order is paid per delivered post, upstream as here (``orders.record_subscription_post``).
The provider's status answer says what it has charged so far; at the provider's rate (kept on
the service's link by import) that is how much it delivered. What is new since the last check
is charged to the customer at the panel's rate, exactly as a post recorded by hand, once: the
order's row is locked and its ``quantity`` is what was already charged for.
"""

from __future__ import annotations

from datetime import datetime

from smmpanel.db.dispatch_repositories import ATTENTION
from smmpanel.db.repositories import Repositories
from smmpanel.domain.orders import Order, OrderStatus
from smmpanel.domain.upstream import delivered_for_charge
from smmpanel.errors import Refused
from smmpanel.money import per_thousand_charge
from smmpanel.providers.apiv2_client import UpstreamOrderStatus
from smmpanel.usecases.orders import charge_post, finish_order
from smmpanel.usecases.pricing import priced_service


async def follow_subscription(
    repos: Repositories, order: Order, provider_id: int, answer: UpstreamOrderStatus, now: datetime
) -> bool:
    """Charge the posts delivered since the last check and take the provider's status; ``order`` is locked.

    False when the provider's rate is not known (a link made by hand, not by import): then the
    order only takes the provider's status, like any other, and posts are recorded by hand.
    """
    service = await repos.services.get(order.service_id)
    links = {link.provider_id: link for link in await repos.links.of_service(order.service_id)}
    link = links.get(provider_id)
    if service is None or link is None or link.provider_rate is None or link.provider_rate <= 0:
        return False
    values: dict[str, object] = {"upstream_status": answer.status.value, "upstream_charge": answer.charge}
    new = delivered_for_charge(answer.charge or 0, link.provider_rate) - order.quantity
    if new > 0:
        charge = per_thousand_charge((await priced_service(repos, order.user_id, service)).rate, new)
        try:
            values.update(await charge_post(repos, order, charge, new, now, " (upstream)"))
        except Refused:
            reason = f"the customer's balance does not cover a delivered post of {new}: cancel it at the provider"
            await repos.orders.update(order.id, {"dispatch": ATTENTION, "attention_reason": reason}, now)
            return True
    if answer.status.is_final:
        await finish_order(repos, order, answer.status, 0, " upstream", values)  # paid per post: no refund
        return True
    status = OrderStatus.IN_PROGRESS if order.quantity + max(new, 0) > 0 else answer.status
    await repos.orders.update(order.id, {**values, "status": status.value, "synced_at": now}, now)
    return True
