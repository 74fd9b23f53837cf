"""What a customer pays per 1000, and how an operator's price changes turn into rates.

Percentages are amounts too (``parse_amount("12.5")`` is 12.5 %), so every rule
here is integer arithmetic on units: exact, the same on every back end.
"""

from __future__ import annotations

from dataclasses import replace

from smmpanel.domain.catalog import Service
from smmpanel.money import SCALE, Units, marked_up_rate

HUNDRED_PERCENT: Units = 100 * SCALE


def _scaled_half_up(rate: Units, factor: Units) -> Units:
    """``rate × factor / 100 %`` rounded half-up to the smallest unit (never below zero)."""
    numerator = rate * max(0, factor)
    return (numerator * 2 + HUNDRED_PERCENT) // (2 * HUNDRED_PERCENT)


def discounted_rate(rate: Units, discount: Units) -> Units:
    """The service rate less the customer's standing discount percent, rounded half-up.

    A discount outside 0–100 % is clamped: a rate never goes negative or up.
    """
    discount = min(max(discount, 0), HUNDRED_PERCENT)
    return _scaled_half_up(rate, HUNDRED_PERCENT - discount)


def effective_rate(rate: Units, *, discount: Units, custom: Units | None) -> Units:
    """What this customer pays: their custom rate when the operator set one, else the discounted rate.

    A custom rate is a negotiated price and is not discounted again.
    """
    if custom is not None:
        return custom
    return discounted_rate(rate, discount)


def priced_for_customer(service: Service, *, discount: Units, custom: Units | None) -> Service:
    """The service as this customer sees and buys it: the same terms at their own rate."""
    rate = effective_rate(service.rate, discount=discount, custom=custom)
    return service if rate == service.rate else replace(service, rate=rate)


def adjusted_rate(rate: Units, percent: Units) -> Units:
    """A bulk price change: ``rate × (1 + percent/100)`` half-up; ``percent`` may be negative."""
    return _scaled_half_up(rate, HUNDRED_PERCENT + percent)


def imported_rate(upstream_rate: Units, *, percent: Units, fixed: Units) -> Units:
    """A provider's rate plus a percent markup (rounded up) plus a fixed amount per 1000."""
    return max(0, marked_up_rate(upstream_rate, percent) + fixed)


def check_discount(discount: Units) -> str | None:
    """Why a discount cannot be stored, or None when it can."""
    if not 0 <= discount <= HUNDRED_PERCENT:
        return "discount must be between 0 and 100 percent"
    return None
