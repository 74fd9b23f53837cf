"""signup invites: one-use links with which a stranger may sign up to an invite-only panel

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "signup_invites",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.String(120), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("used_by", Id, nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["used_by"], ["users.id"], name=op.f("fk_signup_invites_used_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signup_invites_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("signup_invites")
