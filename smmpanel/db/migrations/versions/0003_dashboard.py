"""dashboard: logins, tickets, audit log, custom rates

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 02:55:33.391649
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_created_at"), "audit_log", ["created_at"], unique=False)

    op.create_table(
        "categories",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_categories_name")),
    )
    op.create_table(
        "panel_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_panel_settings")),
    )
    op.create_table(
        "customer_rates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("service_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rate", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("rate >= 0", name=op.f("ck_customer_rates_rate_not_negative")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], name=op.f("fk_customer_rates_service_id_services")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_customer_rates_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_rates")),
        sa.UniqueConstraint("user_id", "service_id", name=op.f("uq_customer_rates_user_id_service_id")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("unread_by_operator", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("unread_by_customer", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_tickets_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index(
        op.f("ix_tickets_unread_by_operator_updated_at"), "tickets", ["unread_by_operator", "updated_at"], unique=False
    )
    op.create_index(op.f("ix_tickets_user_id_id"), "tickets", ["user_id", "id"], unique=False)

    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_operator", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_ticket_messages_author_id_users")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_messages_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_messages")),
    )
    op.create_index(op.f("ix_ticket_messages_ticket_id_id"), "ticket_messages", ["ticket_id", "id"], unique=False)

    op.add_column("services", sa.Column("price_locked", sa.Boolean(), server_default=sa.false(), nullable=False))

    op.add_column("users", sa.Column("password_hash", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("role", sa.String(length=16), server_default="customer", nullable=False))
    op.add_column("users", sa.Column("discount", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("users", "discount")
    op.drop_column("users", "role")
    op.drop_column("users", "password_hash")

    op.drop_column("services", "price_locked")

    op.drop_index(op.f("ix_ticket_messages_ticket_id_id"), "ticket_messages")

    op.drop_table("ticket_messages")
    op.drop_index(op.f("ix_tickets_user_id_id"), "tickets")
    op.drop_index(op.f("ix_tickets_unread_by_operator_updated_at"), "tickets")

    op.drop_table("tickets")
    op.drop_table("customer_rates")
    op.drop_table("panel_settings")
    op.drop_table("categories")
    op.drop_index(op.f("ix_audit_log_created_at"), "audit_log")

    op.drop_table("audit_log")
