"""indexes for customers' order listings filtered by status, and their drip-feeds

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 03:52:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_orders_user_id_status_id"), "orders", ["user_id", "status", "id"])
    op.create_index(
        "ix_orders_user_id_id_drip_feed",
        "orders",
        ["user_id", "id"],
        postgresql_where=sa.text("runs IS NOT NULL"),
        sqlite_where=sa.text("runs IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_orders_user_id_id_drip_feed", "orders")
    op.drop_index(op.f("ix_orders_user_id_status_id"), "orders")
