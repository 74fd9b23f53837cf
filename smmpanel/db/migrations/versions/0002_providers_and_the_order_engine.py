"""providers and the order engine

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 02:30:11.140852
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("api_key", sa.Text(), nullable=False),
        sa.Column("last_ok_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("name", name=op.f("uq_providers_name")),
    )
    op.create_table(
        "service_providers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider_service_id", sa.BigInteger(), nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("provider_rate", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_service_providers_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], name=op.f("fk_service_providers_service_id_services")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_providers")),
        sa.UniqueConstraint("service_id", "provider_id", name=op.f("uq_service_providers_service_id_provider_id")),
    )
    op.create_index(
        op.f("ix_service_providers_provider_id_provider_service_id"),
        "service_providers",
        ["provider_id", "provider_service_id"],
    )
    # Plain ADD COLUMN and CREATE INDEX work on both back ends without rebuilding the
    # orders table, which on SQLite would fight the foreign keys that point at it.
    op.add_column("orders", sa.Column("dispatch", sa.String(length=16), nullable=True))
    op.add_column("orders", sa.Column("attention_reason", sa.Text(), nullable=True))
    op.add_column("orders", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("orders", sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
    op.add_column("orders", sa.Column("synced_at", sa.DateTime(), nullable=True))
    op.add_column("orders", sa.Column("cancel_state", sa.String(length=16), nullable=True))
    op.add_column("orders", sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
    op.add_column("orders", sa.Column("stopped_at", sa.DateTime(), nullable=True))
    op.create_index(op.f("ix_orders_cancel_state"), "orders", ["cancel_state"])
    op.create_index(op.f("ix_orders_dispatch_next_attempt_at"), "orders", ["dispatch", "next_attempt_at"])
    op.create_index(op.f("ix_orders_parent_id"), "orders", ["parent_id"])
    op.create_index(
        op.f("ix_orders_provider_id_dispatch_synced_at"), "orders", ["provider_id", "dispatch", "synced_at"]
    )
    if op.get_context().dialect.name != "sqlite":  # SQLite cannot add a constraint to an existing table
        op.create_foreign_key(op.f("fk_orders_parent_id_orders"), "orders", "orders", ["parent_id"], ["id"])
    op.add_column("refills", sa.Column("dispatch", sa.String(length=16), nullable=True))
    op.add_column("refills", sa.Column("synced_at", sa.DateTime(), nullable=True))
    op.create_index(op.f("ix_refills_dispatch_synced_at"), "refills", ["dispatch", "synced_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_refills_dispatch_synced_at"), "refills")
    op.drop_column("refills", "synced_at")
    op.drop_column("refills", "dispatch")
    if op.get_context().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_orders_parent_id_orders"), "orders", type_="foreignkey")
    for index in ("provider_id_dispatch_synced_at", "parent_id", "dispatch_next_attempt_at", "cancel_state"):
        op.drop_index(op.f(f"ix_orders_{index}"), "orders")
    for column in (
        "stopped_at",
        "parent_id",
        "cancel_state",
        "synced_at",
        "next_attempt_at",
        "attempts",
        "attention_reason",
        "dispatch",
    ):
        op.drop_column("orders", column)
    op.drop_index(op.f("ix_service_providers_provider_id_provider_service_id"), "service_providers")
    op.drop_table("service_providers")
    op.drop_table("providers")
