"""How a local order is put to an upstream provider, and how its answer is read back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from smmpanel.domain.catalog import ServiceType

_LINE_FIELDS = ("comments", "usernames")
_TEXT_FIELDS = ("hashtag", "username", "answer_number", "min", "max", "delay", "posts", "old_posts")


def upstream_params(
    kind: ServiceType, provider_service_id: int, link: str, quantity: int, details: Mapping[str, object]
) -> dict[str, str]:
    """The ``add`` parameters that ask the provider for exactly what the customer bought.

    Drip-feed runs are not passed on: the engine places one child order per run itself.
    """
    params = {"service": str(provider_service_id)}
    if kind is not ServiceType.SUBSCRIPTIONS:
        params["link"] = link
    if kind not in (
        ServiceType.PACKAGE,
        ServiceType.CUSTOM_COMMENTS,
        ServiceType.MENTIONS_CUSTOM_LIST,
        ServiceType.SUBSCRIPTIONS,
    ):
        params["quantity"] = str(quantity)
    for name in _LINE_FIELDS:
        lines = details.get(name)
        if isinstance(lines, list):
            params[name] = "\n".join(str(line) for line in lines)
    for name in _TEXT_FIELDS:
        if name in details:
            params[name] = str(details[name])
    expiry = details.get("expiry")
    if isinstance(expiry, str):
        params["expiry"] = date.fromisoformat(expiry).strftime("%d/%m/%Y")
    return params


def clamp_remains(remains: int | None, ordered: int, fallback: int) -> int:
    """Upstream remains, kept within what was ordered (some panels answer negatives or more)."""
    if remains is None:
        return fallback
    return max(0, min(remains, ordered))


def delivered_for_charge(charge: int, rate: int) -> int:
    """How many units a provider's ``charge`` pays for at its ``rate`` per 1000, to the nearest whole.

    A forwarded Subscriptions order is paid per post upstream, and a status answer tells
    only what was charged so far: this is how much has been delivered. Both are in units
    of 1/100,000 (``smmpanel.money``), so the division is exact integer arithmetic.
    """
    if rate <= 0 or charge <= 0:
        return 0
    return (2 * 1000 * charge + rate) // (2 * rate)
