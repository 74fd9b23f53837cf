"""the operator's day: queue indexes, canned replies, a refill rejection's reason, audit filters

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CANCEL_REQUEST_WHERE = "cancel_requested AND status IN ('Pending', 'In progress', 'Processing')"
OPEN_TICKET_WHERE = "status = 'Open'"


def _partial(name: str, table: str, column: str, where: str) -> None:
    op.create_index(name, table, [column], postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def upgrade() -> None:
    _partial("ix_orders_cancel_state_cancel_request", "orders", "cancel_state", CANCEL_REQUEST_WHERE)
    _partial("ix_tickets_id_open", "tickets", "id", OPEN_TICKET_WHERE)
    op.create_index(op.f("ix_audit_log_actor_id"), "audit_log", ["actor", "id"])
    op.create_index(op.f("ix_audit_log_action_id"), "audit_log", ["action", "id"])
    op.add_column("refills", sa.Column("reason", sa.Text(), nullable=True))
    op.create_table(
        "canned_replies",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
        sa.UniqueConstraint("title", name=op.f("uq_canned_replies_title")),
    )


def downgrade() -> None:
    op.drop_table("canned_replies")
    with op.batch_alter_table("refills") as batch:
        batch.drop_column("reason")
    op.drop_index(op.f("ix_audit_log_action_id"), "audit_log")
    op.drop_index(op.f("ix_audit_log_actor_id"), "audit_log")
    op.drop_index("ix_tickets_id_open", "tickets")
    op.drop_index("ix_orders_cancel_state_cancel_request", "orders")
