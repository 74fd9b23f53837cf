"""display currencies: the currencies prices may be shown in, and each customer's choice

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "currencies",
        sa.Column("id", Id, nullable=False, autoincrement=True),
        sa.Column("code", sa.String(3), nullable=False),
        sa.Column("symbol", sa.String(8), nullable=False, server_default=""),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("rate", sa.String(32), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_currencies")),
        sa.UniqueConstraint("code", name=op.f("uq_currencies_code")),
    )
    op.add_column("users", sa.Column("display_currency", sa.String(3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("display_currency")
    op.drop_table("currencies")
