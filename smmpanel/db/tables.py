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
    sa.Column("discount", Amount, nullable=False, server_default="0"),
    sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
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
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
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
    sa.Column("parent_id", Id, sa.ForeignKey("orders.id"), nullable=True),
    sa.Column("stopped_at", sa.DateTime(), nullable=True),
    _created(),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
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
    # The engine's twin check on every accepted send (``Orders.with_upstream_id``).
    sa.Index(None, "provider_id", "provider_order_id"),
    # The drip-feed listing of one customer among their (possibly millions of) orders.
    sa.Index(
        "ix_orders_user_id_id_drip_feed",
        "user_id",
        "id",
        postgresql_where=sa.text("runs IS NOT NULL"),
        sqlite_where=sa.text("runs IS NOT NULL"),
    ),
)

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    _id(),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("balance_after", Amount, nullable=False),
    sa.Column("order_id", Id, sa.ForeignKey("orders.id"), nullable=True),
    sa.Column("note", sa.Text(), nullable=False, server_default=""),
    _created(),
    sa.Index(None, "user_id", "id"),
    sa.Index(None, "order_id"),
)

refills = sa.Table(
    "refills",
    metadata,
    _id(),
    sa.Column("order_id", Id, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("provider_refill_id", sa.String(64), nullable=True),
    sa.Column("dispatch", sa.String(16), nullable=True),
    sa.Column("synced_at", sa.DateTime(), nullable=True),
    _created(),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
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
    sa.Index(None, "user_id", "id"),
    sa.Index(None, "unread_by_operator", "updated_at"),
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
)

panel_settings = sa.Table(
    "panel_settings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
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
