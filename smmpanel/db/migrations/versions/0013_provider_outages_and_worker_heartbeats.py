"""provider outages (down since, the operator's limit) and engine workers' heartbeats

A worker's claims name the worker (``orders.claimed_by``); a worker that stopped beating
is dead, and its claimed-but-unsent orders are queued again within seconds.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("orders", sa.Column("claimed_by", Id, nullable=True))
    op.add_column("providers", sa.Column("down_since", sa.DateTime(), nullable=True))
    op.add_column("providers", sa.Column("outage_limit", sa.Integer(), nullable=True))
    op.create_table(
        "engine_workers",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_workers")),
    )


def downgrade() -> None:
    op.drop_table("engine_workers")
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("outage_limit")
        batch.drop_column("down_since")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("claimed_by")
