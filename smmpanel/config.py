"""Settings, read from ``SMMPANEL_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./smmpanel.db"

API_ACTIONS = frozenset({"services", "add", "status", "refill", "refill_status", "cancel", "balance", "subscriptions"})
"""The API v2 actions a rate limit can name (``*`` names every other one)."""

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^(\d+)\s*/\s*([a-z]+?)s?$")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``count`` requests in each fixed window of ``period`` seconds."""

    count: int
    period: int


def parse_rate(text: str) -> RateLimit:
    """``60/minute`` (also ``second``, ``hour``, ``day``, and their plurals)."""
    found = _RATE.match(text.strip().lower())
    if found is None or found.group(2) not in _PERIODS:
        raise ValueError(f"{text.strip()!r} is not a rate: write COUNT/UNIT, UNIT one of second, minute, hour, day")
    count = int(found.group(1))
    if count < 1:
        raise ValueError(f"{text.strip()!r}: the count must be at least 1")
    return RateLimit(count, _PERIODS[found.group(2)])


def optional_rate(text: str) -> RateLimit | None:
    """A rate, or None for ``off`` (or nothing)."""
    text = text.strip().lower()
    return None if text in ("", "off") else parse_rate(text)


def parse_rate_limits(text: str) -> dict[str, RateLimit]:
    """``add=60/minute,status=120/minute,*=600/minute``: per action; ``*`` for the actions not named."""
    limits: dict[str, RateLimit] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        action, sep, rate = item.partition("=")
        action = action.strip()
        if not sep:
            raise ValueError(f"{item.strip()!r}: write ACTION=COUNT/UNIT, e.g. add=60/minute")
        if action != "*" and action not in API_ACTIONS:
            raise ValueError(f"unknown action {action!r}: use one of {', '.join(sorted(API_ACTIONS))} or *")
        if action in limits:
            raise ValueError(f"action {action!r} is limited twice")
        limits[action] = parse_rate(rate)
    return limits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMMPANEL_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    """``sqlite:///path`` (embedded default) or ``postgresql://user@host/db``."""

    api_style: Literal["perfectpanel", "viralhub"] = "perfectpanel"
    """JSON types of API v2 answers: PerfectPanel's strings or ViralHub's numbers."""

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """Larger requests, on every route (API, dashboard forms, webhooks), are refused with HTTP 413
    before they are read (``smmpanel.api.body_limit``)."""

    db_pool_size: int = Field(default=10, ge=1, le=200)

    cache_seconds: float = Field(default=2.0, ge=0, le=60)
    """How long a change made by another process (a key rotated, a customer disabled, the catalog
    edited) may go unseen by this one's caches; the process that makes a change sees it at once.
    0 turns the caches off (``smmpanel.db.cache``)."""

    secret_key: str | None = Field(default=None, min_length=32)
    """Signs dashboard sessions; when unset, one is made on first start and kept in the database."""

    secure_cookies: bool = False
    """Send session cookies over HTTPS only: set it when the panel is served behind TLS."""

    run_engine: bool = True
    """Run the order engine inside the serving process (``serve --no-engine`` turns it off)."""

    engine_interval: float = Field(default=1.0, gt=0)
    """Seconds the engine rests between passes when a pass found nothing to do."""

    forward_batch: int = Field(default=50, ge=1, le=1000)
    sync_batch: int = Field(default=1000, ge=1, le=100_000)
    sync_interval: float = Field(default=30.0, ge=0)
    """Seconds between two status checks of one forwarded order."""

    provider_concurrency: int = Field(default=4, ge=1, le=64)
    """Requests in flight to one provider at once."""

    http_timeout: float = Field(default=30.0, gt=0)
    http_connect_timeout: float = Field(default=5.0, gt=0)
    send_retries: int = Field(default=3, ge=0)
    """Retries on one provider when a send certainly never left, before failing over."""

    retry_backoff: float = Field(default=10.0, ge=0)
    """Seconds before the first retry; doubled on each further one."""

    send_lease_grace: float = Field(default=30.0, ge=0)
    """Seconds past the HTTP timeouts after which a send still "in flight" counts as abandoned
    (its worker died) and the order goes to the attention list."""

    rate_limits: str = ""
    """API v2 requests per API key (customer), per action: ``add=60/minute,status=120/minute``. Off when empty."""

    address_rate_limits: str = ""
    """API v2 requests per client address, per action, same format. Off when empty."""

    invalid_key_limit: str = "30/minute"
    """Failed API key attempts per client address; past it, every API request from that address
    (whatever its key) is answered 429 until the window ends. ``off`` turns it off."""

    redis_url: str | None = None
    """``redis://host:6379/0``: rate-limit counters shared by every API process; in-process without it."""

    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"

    shutdown_timeout: float = Field(default=30.0, ge=0)
    """Seconds ``serve`` waits for requests in flight after SIGTERM before closing them."""

    metrics_token: str | None = Field(default=None, min_length=16)
    """When set, ``/metrics`` answers only ``Authorization: Bearer <token>``."""

    admin_api_rate_limit: str = "5/second"
    """Admin API requests per admin key (``COUNT/UNIT``); ``off`` turns it off. Counted in Redis when set."""

    admin_api_lease_seconds: int = Field(default=600, ge=1)
    """How long an order pulled through the admin API stays its key's before it is handed out again."""
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    """How customers and gateways reach this panel (``https://panel.example.com``): payment links
    and the return and webhook URLs given to gateways. Unset, the dashboard uses the address it
    was reached at, and the CLI ``http://127.0.0.1:8080``."""
    signup_limit: str = "10/hour"
    """Dashboard sign-ups per client address (``COUNT/UNIT``); ``off`` turns the limit off."""
    provider_answer_limit: int = Field(default=262_144, ge=4096)
    """Bytes of a provider's answer read before it is refused (the status of 100 orders takes a few KB)."""

    provider_catalog_limit: int = Field(default=16_777_216, ge=65_536)
    """Bytes of a provider's ``services`` answer read before it is refused (a large catalog takes a few MB)."""

    worker_heartbeat_timeout: float = Field(default=5.0, gt=0)
    """Seconds without a heartbeat after which an engine worker counts as dead: its claimed,
    unsent orders are queued again for the others (a worker beats every fifth of it)."""

    outage_limit: float = Field(default=21_600.0, gt=0)
    """Seconds orders wait for a provider that cannot be reached (and no other provider of
    their service can take them) before they are canceled and refunded; per provider with
    ``provider update NAME --outage-limit``. 6 hours."""

    outage_retry_max: float = Field(default=300.0, gt=0)
    """The longest wait between two tries of an order waiting out an outage (the backoff doubles up to it)."""

    @field_validator("rate_limits", "address_rate_limits")
    @classmethod
    def _valid_limits(cls, value: str) -> str:
        parse_rate_limits(value)
        return value

    @field_validator("invalid_key_limit", "admin_api_rate_limit", "signup_limit")
    @classmethod
    def _valid_invalid_key_limit(cls, value: str) -> str:
        if value.strip().lower() not in ("", "off"):
            parse_rate(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _valid_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"{value!r} is not a log level: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    def invalid_key_rate(self) -> RateLimit | None:
        return optional_rate(self.invalid_key_limit)

    def admin_api_rate(self) -> RateLimit | None:
        return optional_rate(self.admin_api_rate_limit)

    def signup_rate(self) -> RateLimit | None:
        return optional_rate(self.signup_limit)

    # Email and notifications (smmpanel.notify): defaults for what the operator sets on the
    # dashboard's notification settings page, which wins over these.
    smtp_host: str = ""
    """The SMTP server; mail waits in the queue while no server is set."""

    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = "smmpanel@localhost"
    smtp_timeout: float = Field(default=20.0, gt=0)

    mail_batch: int = Field(default=20, ge=1, le=1000)
    """Messages one engine pass claims at most."""

    mail_retry_backoff: float = Field(default=30.0, ge=0)
    """Seconds before a failed delivery is tried again; doubled on each further one, up to an hour."""

    mail_max_attempts: int = Field(default=12, ge=1)
    """Delivery attempts before a message is given up (``failed``, shown to the operator)."""

    telegram_api_url: str = "https://api.telegram.org"
    """Telegram's Bot API; a test or a proxy points it elsewhere."""

    archive_after_days: int = Field(default=0, ge=0)
    """The engine moves finished orders untouched for this many days into ``orders_archive``, once a
    day (``smmpanel.db.order_archive``); 0, the default, never (``smmpanel order archive`` by hand)."""

    provider_check_interval: float = Field(default=600.0, ge=0)
    """Seconds between two balance checks of one provider by the engine (low-balance and unreachable
    alerts to the operator); 0 turns the checks off."""
