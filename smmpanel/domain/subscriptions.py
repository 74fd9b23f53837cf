"""Subscriptions-type orders as schedules: one delivery per new post of a username, paid per post.

Beside drip-feeds (``dripfeed``) they are what the API's ``subscriptions`` action lists, in the
ViralHub shape, whose fields were made for a drip-feed's runs. A post is such a run: ``runs`` is
how many posts the order covers (its new ``posts`` plus its ``old_posts``; None when it has no
limit), ``interval`` its ``delay`` in minutes, ``quantity`` the most one post receives (``max``).
"""

from __future__ import annotations

from smmpanel.domain.orders import FINAL_STATUSES, Order


def _whole(details: dict[str, object], name: str) -> int | None:
    value = details.get(name)
    return value if isinstance(value, int) else None


def posts_limit(order: Order) -> int | None:
    """How many posts the order covers in all; None when new posts are unlimited."""
    posts = _whole(order.details, "posts")
    return None if posts is None else posts + (_whole(order.details, "old_posts") or 0)


def remaining_posts(order: Order) -> int | None:
    """Posts still to come: none once the order ended, None while it has no limit."""
    if order.status in FINAL_STATUSES:
        return 0
    limit = posts_limit(order)
    return None if limit is None else max(0, limit - order.runs_done)


def per_post_range(order: Order) -> tuple[int, int]:
    """The least and the most one post receives, as ordered."""
    return _whole(order.details, "min") or 0, _whole(order.details, "max") or 0


def delay_minutes(order: Order) -> int:
    """Minutes after a new post before its delivery starts."""
    return _whole(order.details, "delay") or 0
