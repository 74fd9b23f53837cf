"""The schema, one table per record kind; Alembic migrations are written from it.

Amounts are BIGINT counts of 1/100,000 (see ``smmpanel.money``), never REAL or FLOAT,
so SQLite and PostgreSQL hold exactly the same figures.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Amount = sa.BigInteger

CANCEL_REQUEST_WHERE = "cancel_requested AND status IN ('Pending', 'In progress', 'Processing')"
"""A cancel request on a running order; it waits for the operator while its ``cancel_state`` is NULL
(not forwarded to a provider). The partial index keyed on ``cancel_state`` finds those few at once."""
OPEN_TICKET_WHERE = "status = 'Open'"


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _created() -> sa.Column[datetime]:
    return sa.Column("created_at", sa.DateTime(), nullable=False)


users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("api_key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("balance", Amount, nullable=False, server_default="0"),
    sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
    _created(),
    # The dashboard: a password (argon2) for people who log in, a role, and a standing discount.
    sa.Column("password_hash", sa.Text(), nullable=True),
    sa.Column("role", sa.String(16), nullable=False, server_default="customer"),
    # The members of staff among (perhaps) a hundred thousand customers: the staff list, the audit
    # and ticket pages' filters (migration 0030).
    sa.Index(None, "role", "id"),
    sa.Column("discount", Amount, nullable=False, server_default="0"),
    # Email (smmpanel.usecases.email_accounts): kept lower-cased; verified by a link.
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("email_verified_at", sa.DateTime(), nullable=True),
    sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
    sa.Index(None, "email", unique=True),
    # Affiliates: who referred this customer, for good (no foreign key: SQLite cannot add one to a table).
    sa.Column("referrer_id", Id, nullable=True),
    sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
    sa.Index(None, "referrer_id"),
    # Display currencies: the code the customer reads prices in (None: the panel's default).
    sa.Column("display_currency", sa.String(3), nullable=True),
    # The language they chose (smmpanel.i18n code); none: their browser's, else the panel's default.
    sa.Column("language", sa.String(8), nullable=True),
)

services = sa.Table(
    "services",
    metadata,
    _id(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("category", sa.String(255), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("rate", Amount, nullable=False),
    sa.Column("min", sa.BigInteger(), nullable=False),
    sa.Column("max", sa.BigInteger(), nullable=False),
    sa.Column("refill", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("cancel", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("description", sa.Text(), nullable=False, server_default=""),
    sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("refill_days", sa.Integer(), nullable=False, server_default="30"),
    sa.Column("deny_duplicate_link", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    _created(),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Column("price_locked", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.CheckConstraint("rate >= 0", name="rate_not_negative"),
    sa.CheckConstraint("min >= 1 AND max >= min", name="min_max_range"),
)

orders = sa.Table(
    "orders",
    metadata,
    _id(),
    # No foreign key to users (migration 0021): its FOR KEY SHARE locked the row every order debits.
    sa.Column("user_id", Id, nullable=False),
    sa.Column("service_id", Id, sa.ForeignKey("services.id"), nullable=False),
    sa.Column("link", sa.Text(), nullable=False),
    sa.Column("quantity", sa.BigInteger(), nullable=False),
    sa.Column("runs", sa.Integer(), nullable=True),
    sa.Column("interval", sa.Integer(), nullable=True),
    sa.Column("runs_done", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("details", sa.JSON(), nullable=False),
    sa.Column("charge", Amount, nullable=False),
    sa.Column("refunded", Amount, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_count", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("remains", sa.BigInteger(), nullable=False),
    sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
    # Upstream fulfilment, kept up to date by the order engine (smmpanel.engine).
    sa.Column("provider_id", Id, nullable=True),
    sa.Column("provider_order_id", sa.String(64), nullable=True),
    sa.Column("upstream_status", sa.String(16), nullable=True),
    sa.Column("upstream_charge", Amount, nullable=True),
    sa.Column("dispatch", sa.String(16), nullable=True),
    sa.Column("attention_reason", sa.Text(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
    sa.Column("synced_at", sa.DateTime(), nullable=True),
    sa.Column("cancel_state", sa.String(16), nullable=True),
    # No foreign keys onto ``orders.id`` (migration 0025): an order may move to ``orders_archive``.
    sa.Column("parent_id", Id, nullable=True),
    sa.Column("stopped_at", sa.DateTime(), nullable=True),
    _created(),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    # The admin API key that pulled this manual order (``dispatch`` is then ``pulled``).
    sa.Column("pulled_by", Id, nullable=True),
    sa.Column("claimed_by", Id, nullable=True),  # the engine worker holding it ``claimed`` (engine_workers)
    sa.CheckConstraint("charge >= 0", name="charge_not_negative"),
    sa.CheckConstraint("refunded >= 0 AND refunded <= charge", name="refund_within_charge"),
    sa.Index(None, "user_id", "id"),
    sa.Index(None, "user_id", "link", "status"),
    sa.Index(None, "status", "id"),
    sa.Index(None, "dispatch", "next_attempt_at"),
    sa.Index(None, "provider_id", "dispatch", "synced_at"),
    sa.Index(None, "parent_id"),
    sa.Index(None, "cancel_state"),
    sa.Index(None, "user_id", "status", "id"),
    # The engine's twin check: a provider's order id belongs to one local order (migration 0022).
    sa.Index(None, "provider_id", "provider_order_id", unique=True),
    # The drip-feed listing of one customer among their (possibly millions of) orders.
    sa.Index(
        "ix_orders_user_id_id_drip_feed",
        "user_id",
        "id",
        postgresql_where=sa.text("runs IS NOT NULL"),
        sqlite_where=sa.text("runs IS NOT NULL"),
    ),
    # The operator's cancel-requests queue and its count in the nav: a handful among millions.
    sa.Index(
        "ix_orders_cancel_state_cancel_request",
        "cancel_state",
        postgresql_where=sa.text(CANCEL_REQUEST_WHERE),
        sqlite_where=sa.text(CANCEL_REQUEST_WHERE),
    ),
)

ARCHIVE_INDEXES = (("user_id", "id"), ("parent_id",), ("provider_id", "provider_order_id"))
"""Read by an order's id, a customer's pages, a drip-feed's runs and (the operator's search) a provider's order id."""

orders_archive = sa.Table(
    "orders_archive",
    metadata,
    *(
        sa.Column(
            column.name,
            column.type,
            nullable=column.nullable,
            primary_key=column.primary_key,
            autoincrement=False,
        )
        for column in orders.columns
    ),
    *(sa.Index(None, *columns) for columns in ARCHIVE_INDEXES),
)
"""Finished orders moved out of ``orders`` (``smmpanel.db.order_archive``), every column as it was."""

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    _id(),
    sa.Column("user_id", Id, nullable=False),  # no foreign key to users, as for orders (migration 0021)
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("balance_after", Amount, nullable=False),
    sa.Column("order_id", Id, nullable=True),  # in ``orders`` or ``orders_archive`` (migration 0025)
    sa.Column("note", sa.Text(), nullable=False, server_default=""),
    _created(),
    sa.Index(None, "user_id", "id"),
    sa.Index(None, "order_id"),
)

# Still created after and emptied before ``users``, as when they had the foreign key (SQLite keeps it).
orders.add_is_dependent_on(users)
ledger_entries.add_is_dependent_on(users)

refills = sa.Table(
    "refills",
    metadata,
    _id(),
    sa.Column("order_id", Id, nullable=False),  # in ``orders`` or ``orders_archive`` (migration 0025)
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("provider_refill_id", sa.String(64), nullable=True),
    sa.Column("dispatch", sa.String(16), nullable=True),
    sa.Column("synced_at", sa.DateTime(), nullable=True),
    _created(),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),  # why the operator rejected it, shown to the customer
    sa.Index(None, "user_id", "id"),
    sa.Index(None, "order_id", "status"),
    sa.Index(None, "dispatch", "synced_at"),
)

providers = sa.Table(
    "providers",
    metadata,
    _id(),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("url", sa.Text(), nullable=False),
    # The provider's key must be sent as-is, so it cannot be hashed; it is never shown back in full.
    sa.Column("api_key", sa.Text(), nullable=False),
    sa.Column("last_ok_at", sa.DateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("last_error_at", sa.DateTime(), nullable=True),
    _created(),
    # The engine's balance check (smmpanel.engine.provider_checks): when, and what the operator was told.
    sa.Column("checked_at", sa.DateTime(), nullable=True),
    sa.Column("alert", sa.String(16), nullable=True),
    sa.Column("down_since", sa.DateTime(), nullable=True),  # unreachable since; None while it answers
    sa.Column("outage_limit", sa.Integer(), nullable=True),  # seconds orders wait out an outage; None: the default
)

service_providers = sa.Table(
    "service_providers",
    metadata,
    _id(),
    sa.Column("service_id", Id, sa.ForeignKey("services.id"), nullable=False),
    sa.Column("provider_id", Id, sa.ForeignKey("providers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("provider_service_id", sa.BigInteger(), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("provider_rate", Amount, nullable=True),
    _created(),
    sa.UniqueConstraint("service_id", "provider_id"),
    sa.Index(None, "provider_id", "provider_service_id"),
)

categories = sa.Table(
    "categories",
    metadata,
    _id(),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false()),
)

customer_rates = sa.Table(
    "customer_rates",
    metadata,
    _id(),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("service_id", Id, sa.ForeignKey("services.id"), nullable=False),
    sa.Column("rate", Amount, nullable=False),
    sa.UniqueConstraint("user_id", "service_id"),
    sa.CheckConstraint("rate >= 0", name="rate_not_negative"),
)

tickets = sa.Table(
    "tickets",
    metadata,
    _id(),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("order_id", Id, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("unread_by_operator", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("unread_by_customer", sa.Boolean(), nullable=False, server_default=sa.false()),
    _created(),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Column("assigned_to", Id, sa.ForeignKey("users.id"), nullable=True),  # the member of staff handling it
    sa.Index(None, "user_id", "id"),
    sa.Index(None, "unread_by_operator", "updated_at"),
    sa.Index(
        "ix_tickets_id_open", "id", postgresql_where=sa.text(OPEN_TICKET_WHERE), sqlite_where=sa.text(OPEN_TICKET_WHERE)
    ),
)

canned_replies = sa.Table(
    "canned_replies",
    metadata,
    _id(),
    sa.Column("title", sa.String(64), nullable=False, unique=True),
    sa.Column("body", sa.Text(), nullable=False),
    _created(),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
)

ticket_messages = sa.Table(
    "ticket_messages",
    metadata,
    _id(),
    sa.Column("ticket_id", Id, sa.ForeignKey("tickets.id"), nullable=False),
    sa.Column("author_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("from_operator", sa.Boolean(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    _created(),
    sa.Index(None, "ticket_id", "id"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(255), nullable=False),
    sa.Column("before", sa.JSON(), nullable=True),
    sa.Column("after", sa.JSON(), nullable=True),
    _created(),
    sa.Index(None, "created_at"),
    sa.Index(None, "actor", "id"),
    sa.Index(None, "action", "id"),
)

panel_settings = sa.Table(
    "panel_settings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)

signup_invites = sa.Table(
    "signup_invites",
    metadata,
    _id(),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("note", sa.String(120), nullable=False, server_default=""),
    sa.Column("created_by", sa.String(64), nullable=False),
    _created(),
    sa.Column("used_at", sa.DateTime(), nullable=True),
    sa.Column("used_by", Id, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("revoked_at", sa.DateTime(), nullable=True),
)

admin_api_keys = sa.Table(
    "admin_api_keys",
    metadata,
    _id(),
    sa.Column("name", sa.String(48), nullable=False, unique=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False, server_default="admin"),
    _created(),
    sa.Column("revoked_at", sa.DateTime(), nullable=True),
)

# Two-factor login (TOTP, RFC 6238): one secret per user, confirmed by a first code. ``last_step`` is the
# 30-second step of the last code accepted, so that a code seen once is never accepted again.
two_factor = sa.Table(
    "two_factor",
    metadata,
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("confirmed_at", sa.DateTime(), nullable=True),
    sa.Column("last_step", sa.BigInteger(), nullable=True),
    _created(),
)

# Recovery codes: shown once, kept as SHA-256 digests (each code carries 80 random bits), used once each.
recovery_codes = sa.Table(
    "recovery_codes",
    metadata,
    _id(),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("used_at", sa.DateTime(), nullable=True),
    _created(),
    sa.Index(None, "user_id"),
)

# Payments (smmpanel.domain.payments): the operator's gateways, each payment a customer makes
# through one, and every confirmation received for them, credited or refused.
payment_gateways = sa.Table(
    "payment_gateways",
    metadata,
    _id(),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("display_name", sa.String(255), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("min_amount", Amount, nullable=False, server_default="0"),
    sa.Column("max_amount", Amount, nullable=True),
    # Percents are amounts too: 2.5 % is 250,000.
    sa.Column("fee_percent", Amount, nullable=False, server_default="0"),
    sa.Column("bonus_percent", Amount, nullable=False, server_default="0"),
    sa.Column("bonus_from", Amount, nullable=False, server_default="0"),
    sa.Column("instructions", sa.Text(), nullable=False, server_default=""),
    # The kind's options (keys, webhook secrets, account numbers): never shown back in full.
    sa.Column("config", sa.JSON(), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    _created(),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.CheckConstraint("min_amount >= 0 AND (max_amount IS NULL OR max_amount >= min_amount)", name="limits"),
    sa.CheckConstraint("fee_percent >= 0 AND bonus_percent >= 0 AND bonus_from >= 0", name="percents"),
)

payments = sa.Table(
    "payments",
    metadata,
    _id(),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("gateway_id", Id, sa.ForeignKey("payment_gateways.id"), nullable=False),
    # ``amount`` is what the balance receives; the gateway is asked for amount + fee.
    sa.Column("amount", Amount, nullable=False),
    sa.Column("fee", Amount, nullable=False, server_default="0"),
    sa.Column("amount_confirmed", Amount, nullable=True),
    sa.Column("bonus", Amount, nullable=False, server_default="0"),
    sa.Column("currency", sa.String(8), nullable=False),
    # The gateway's own id (a PaymentIntent id, a transfer's reference); NULL until the gateway gave one.
    sa.Column("reference", sa.String(255), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("note", sa.Text(), nullable=False, server_default=""),
    sa.Column("confirmation", sa.JSON(), nullable=True),
    _created(),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Column("confirmed_at", sa.DateTime(), nullable=True),
    sa.Column("expires_at", sa.DateTime(), nullable=True),
    # What the customer's browser needs to pay, as the gateway's start gave it (``gateways.base.Started``).
    sa.Column("checkout", sa.JSON(), nullable=True),
    sa.CheckConstraint("amount > 0 AND fee >= 0 AND bonus >= 0", name="amounts"),
    sa.UniqueConstraint("gateway_id", "reference"),
    sa.Index(None, "user_id", "id"),
    sa.Index(None, "status", "id"),
)

payment_events = sa.Table(
    "payment_events",
    metadata,
    _id(),
    sa.Column("gateway_id", Id, sa.ForeignKey("payment_gateways.id"), nullable=True),
    sa.Column("payment_id", Id, sa.ForeignKey("payments.id"), nullable=True),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False, server_default=""),
    sa.Column("reference", sa.String(255), nullable=True),
    sa.Column("amount", Amount, nullable=True),
    sa.Column("raw", sa.JSON(), nullable=True),
    _created(),
    sa.Index(None, "payment_id", "id"),
    sa.Index(None, "gateway_id", "id"),
)
# Dashboard sessions, revocable on the server: the signed cookie carries a random session id,
# stored here only as its SHA-256 digest (a copy of this table opens no account).
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False, index=True),
    _created(),
    sa.Column("last_seen_at", sa.DateTime(), nullable=False),
    sa.Column("revoked_at", sa.DateTime(), nullable=True),
)

# Usernames are unique whatever their case ("BOSS" cannot sit beside "boss"); logins look them up by it.
sa.Index("uq_users_username_lower", sa.func.lower(users.c.username), unique=True)
mail_queue = sa.Table(
    "mail_queue",
    metadata,
    _id(),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("recipient", sa.Text(), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("subject", sa.Text(), nullable=False),
    sa.Column("body_text", sa.Text(), nullable=False),
    sa.Column("body_html", sa.Text(), nullable=True),
    # queued -> sending (one worker's attempt, until lease_until) -> sent, or failed after the last attempt.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
    sa.Column("lease_until", sa.DateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    _created(),
    sa.Column("sent_at", sa.DateTime(), nullable=True),
    sa.Index(None, "status", "next_attempt_at"),
)

account_tokens = sa.Table(
    "account_tokens",
    metadata,
    _id(),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    # SHA-256 of the token: the link in the mail is the only copy of the token itself.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("expires_at", sa.DateTime(), nullable=False),
    sa.Column("used_at", sa.DateTime(), nullable=True),
    _created(),
    sa.Index(None, "user_id", "purpose"),
)

notification_prefs = sa.Table(
    "notification_prefs",
    metadata,
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("off", sa.JSON(), nullable=False),
    sa.Column("low_balance_below", Amount, nullable=True),
    sa.Column("low_balance_alerted", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("telegram_chat_id", sa.String(64), nullable=True),
)
# --- the catalog's upkeep: provider currencies and syncs, loss rules, change lists (#13) ---

provider_catalogs = sa.Table(
    "provider_catalogs",
    metadata,
    sa.Column("provider_id", Id, sa.ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("currency", sa.String(8), nullable=True),
    # Panel units per unit of the provider's currency, as exact decimal text ("1.08"): never a float.
    sa.Column("exchange_rate", sa.String(32), nullable=False, server_default="1"),
    sa.Column("sync_minutes", sa.Integer(), nullable=True),
    sa.Column("synced_at", sa.DateTime(), nullable=True),
    sa.Column("sync_error", sa.Text(), nullable=True),
)

service_upkeep = sa.Table(
    "service_upkeep",
    metadata,
    sa.Column("service_id", Id, sa.ForeignKey("services.id"), primary_key=True),
    sa.Column("loss_rule", sa.String(8), nullable=False, server_default="raise"),
    # The fields the operator edited by hand, comma-separated: a sync never overwrites them.
    sa.Column("operator_fields", sa.String(255), nullable=False, server_default=""),
    sa.Column("at_loss", sa.Boolean(), nullable=False, server_default=sa.false()),
    # Disabled by a sync (gone upstream, or at a loss): a later sync enables it again; the operator's never.
    sa.Column("sync_disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
)

catalog_changes = sa.Table(
    "catalog_changes",
    metadata,
    _id(),
    sa.Column("provider_id", Id, sa.ForeignKey("providers.id", ondelete="CASCADE"), nullable=True),
    sa.Column("service_id", Id, sa.ForeignKey("services.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("field", sa.String(32), nullable=False),
    sa.Column("old", sa.Text(), nullable=True),
    sa.Column("new", sa.Text(), nullable=True),
    _created(),
    sa.Index(None, "provider_id", "id"),
)

orders_below_cost = sa.Table(
    "orders_below_cost",
    metadata,
    sa.Column("order_id", Id, primary_key=True, autoincrement=False),  # no foreign key (migration 0025)
    sa.Column("provider_id", Id, nullable=False),
    sa.Column("cost", Amount, nullable=False),
    _created(),
)

coupons = sa.Table(
    "coupons",
    metadata,
    _id(),
    sa.Column("code", sa.String(32), nullable=False, unique=True),  # upper-cased: codes ignore case
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("value", Amount, nullable=False),
    sa.Column("max_uses", sa.Integer(), nullable=True),
    sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("expires_on", sa.Date(), nullable=True),
    sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
    _created(),
    sa.CheckConstraint("value > 0", name="value_positive"),
    sa.CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_limit"),
)

coupon_redemptions = sa.Table(
    "coupon_redemptions",
    metadata,
    _id(),
    sa.Column("coupon_id", Id, sa.ForeignKey("coupons.id"), nullable=False),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("amount", Amount, nullable=False, server_default="0"),
    sa.Column("payment_id", Id, sa.ForeignKey("payments.id"), nullable=True),  # the deposit a percent paid on
    _created(),
    sa.Column("applied_at", sa.DateTime(), nullable=True),
    # One use per customer, whatever arrives at once.
    sa.UniqueConstraint("coupon_id", "user_id"),
    sa.Index(None, "user_id", "id"),
    # At most one percent coupon waits for a customer's next deposit.
    sa.Index(
        "ix_coupon_redemptions_user_id_waiting",
        "user_id",
        unique=True,
        postgresql_where=sa.text("status = 'waiting'"),
        sqlite_where=sa.text("status = 'waiting'"),
    ),
)

affiliates = sa.Table(
    "affiliates",
    metadata,
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("percent", Amount, nullable=True),  # the operator's override of the panel's percent
    _created(),
)

affiliate_payouts = sa.Table(
    "affiliate_payouts",
    metadata,
    _id(),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    _created(),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.Index(None, "user_id", "id"),
)

affiliate_commissions = sa.Table(
    "affiliate_commissions",
    metadata,
    _id(),
    sa.Column("referrer_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("referred_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("payment_id", Id, sa.ForeignKey("payments.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("deposit", Amount, nullable=False),
    sa.Column("percent", Amount, nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("payout_id", Id, sa.ForeignKey("affiliate_payouts.id"), nullable=True),
    _created(),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    # A deposit earns one commission and is taken back at most once.
    sa.UniqueConstraint("payment_id", "kind"),
    sa.Index(None, "referrer_id", "status"),
    sa.Index(None, "referrer_id", "id"),
)

# One row per running engine worker; a worker whose heartbeat stopped is dead, and its claims are free.
engine_workers = sa.Table(
    "engine_workers",
    metadata,
    _id(),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("started_at", sa.DateTime(), nullable=False),
    sa.Column("beat_at", sa.DateTime(), nullable=False),
)

# Orders counted (and their upstream charges summed) per day placed, status and engine state,
# kept by database triggers on ``orders`` (migration 0023) so that ``/metrics`` and the overview
# never count the orders table itself. Every insert, delete, or change of status, dispatch or
# upstream charge appends a delta row (no lock shared by
# writers); ``OrderCounts.fold`` moves the deltas into ``order_counts`` from time to time.
# ``dispatch`` is '' for an order the engine does not hold.
order_counts = sa.Table(
    "order_counts",
    metadata,
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("status", sa.String(16), primary_key=True),
    sa.Column("dispatch", sa.String(16), primary_key=True),
    sa.Column("n", sa.BigInteger(), nullable=False),
    sa.Column("upstream_charge", Amount, nullable=False),
)

order_count_deltas = sa.Table(
    "order_count_deltas",
    metadata,
    _id(),
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("dispatch", sa.String(16), nullable=False),
    sa.Column("n", sa.BigInteger(), nullable=False),
    sa.Column("upstream_charge", Amount, nullable=False),
)

revenue_days = sa.Table(
    "revenue_days",
    metadata,
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("amount", Amount, nullable=False),
)
"""Charges less refunds per UTC day, folded from ``revenue_deltas`` (migration 0031)."""

revenue_deltas = sa.Table(
    "revenue_deltas",
    metadata,
    _id(),
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("amount", Amount, nullable=False),
)
"""One row per charge or refund entry, written by a trigger on ``ledger_entries``, until folded."""

# Display currencies (smmpanel.domain.currencies): shown prices only; the ledger stays in the panel's currency.
# ``rate`` is exact decimal text (how many of its units one unit of the panel's currency buys).
currencies = sa.Table(
    "currencies",
    metadata,
    _id(),
    sa.Column("code", sa.String(3), nullable=False, unique=True),
    sa.Column("symbol", sa.String(8), nullable=False, server_default=""),
    sa.Column("decimals", sa.Integer(), nullable=False),
    sa.Column("rate", sa.String(32), nullable=False),
    sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()),
)
