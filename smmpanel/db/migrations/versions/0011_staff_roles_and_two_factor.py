"""staff roles, two-factor login and ticket assignment

The one operator role ``admin`` becomes ``owner`` (everything); ``admin`` now names the role
that may do everything but staff and settings. Adds the TOTP secrets, the hashed recovery codes
and the member of staff a ticket is assigned to.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.execute("UPDATE users SET role = 'owner' WHERE role = 'admin'")
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("assigned_to", Id, nullable=True))
        batch.create_foreign_key(op.f("fk_tickets_assigned_to_users"), "users", ["assigned_to"], ["id"])
    op.create_table(
        "two_factor",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_two_factor_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_two_factor")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_codes_user_id"), "recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("two_factor")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint(op.f("fk_tickets_assigned_to_users"), type_="foreignkey")
        batch.drop_column("assigned_to")
    op.execute("UPDATE users SET role = 'customer', disabled = TRUE WHERE role IN ('admin', 'support', 'finance')")
    op.execute("UPDATE users SET role = 'admin' WHERE role = 'owner'")
