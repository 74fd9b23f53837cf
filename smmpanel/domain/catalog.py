"""Catalog items ("services" in this trade): what a customer can buy and on which terms."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from smmpanel.money import Units


class ServiceType(StrEnum):
    """The standard service types; each asks the customer for different order fields."""

    DEFAULT = "Default"
    PACKAGE = "Package"
    CUSTOM_COMMENTS = "Custom Comments"
    MENTIONS_CUSTOM_LIST = "Mentions Custom List"
    MENTIONS_HASHTAG = "Mentions Hashtag"
    MENTIONS_USER_FOLLOWERS = "Mentions User Followers"
    POLL = "Poll"
    COMMENT_LIKES = "Comment Likes"
    SUBSCRIPTIONS = "Subscriptions"


@dataclass(frozen=True, slots=True)
class Service:
    id: int
    name: str
    category: str
    type: ServiceType
    rate: Units
    min: int
    max: int
    refill: bool
    cancel: bool
    description: str
    enabled: bool
    refill_days: int
    deny_duplicate_link: bool
    position: int = 0
    price_locked: bool = False
    """Imports from a provider leave this service's rate alone."""
    hidden: bool = False
    """Its category is hidden: kept off the customers' catalog and not orderable, like a disabled one."""
