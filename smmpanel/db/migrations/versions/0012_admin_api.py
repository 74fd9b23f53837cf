"""the admin API: admin API keys, and which key pulled a manual order

``admin_api_keys`` holds the operator's keys for ``/adminapi`` (hashed, with a role,
revoked rather than deleted so that the audit log's names stay meaningful).
``orders.pulled_by`` names the key that pulled a manual order; the claim's lease end
is the order's ``next_attempt_at``, as the engine's own claims keep theirs.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "admin_api_keys",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(48), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False, server_default="admin"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_api_keys")),
        sa.UniqueConstraint("name", name=op.f("uq_admin_api_keys_name")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_admin_api_keys_key_hash")),
    )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("pulled_by", Id, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("pulled_by")
    op.drop_table("admin_api_keys")
