"""payments: gateways, payments and every confirmation received

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "payment_gateways",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("min_amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("max_amount", sa.BigInteger(), nullable=True),
        sa.Column("fee_percent", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("bonus_percent", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("bonus_from", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("instructions", sa.Text(), server_default="", nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "min_amount >= 0 AND (max_amount IS NULL OR max_amount >= min_amount)",
            name=op.f("ck_payment_gateways_limits"),
        ),
        sa.CheckConstraint(
            "fee_percent >= 0 AND bonus_percent >= 0 AND bonus_from >= 0", name=op.f("ck_payment_gateways_percents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_gateways")),
        sa.UniqueConstraint("name", name=op.f("uq_payment_gateways_name")),
    )
    op.create_table(
        "payments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("gateway_id", _ID, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("amount_confirmed", sa.BigInteger(), nullable=True),
        sa.Column("bonus", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("confirmation", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("checkout", sa.JSON(), nullable=True),
        sa.CheckConstraint("amount > 0 AND fee >= 0 AND bonus >= 0", name=op.f("ck_payments_amounts")),
        sa.ForeignKeyConstraint(
            ["gateway_id"], ["payment_gateways.id"], name=op.f("fk_payments_gateway_id_payment_gateways")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_payments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("gateway_id", "reference", name=op.f("uq_payments_gateway_id_reference")),
    )
    op.create_index(op.f("ix_payments_user_id_id"), "payments", ["user_id", "id"], unique=False)
    op.create_index(op.f("ix_payments_status_id"), "payments", ["status", "id"], unique=False)
    op.create_table(
        "payment_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("gateway_id", _ID, nullable=True),
        sa.Column("payment_id", _ID, nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gateway_id"], ["payment_gateways.id"], name=op.f("fk_payment_events_gateway_id_payment_gateways")
        ),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_payment_events_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
    )
    op.create_index(op.f("ix_payment_events_payment_id_id"), "payment_events", ["payment_id", "id"], unique=False)
    op.create_index(op.f("ix_payment_events_gateway_id_id"), "payment_events", ["gateway_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("payment_events")
    op.drop_table("payments")
    op.drop_table("payment_gateways")
