"""security: revocable dashboard sessions; usernames unique whatever their case

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from smmpanel.errors import Refused

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _names_differing_only_by_case() -> list[list[str]]:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT username FROM users WHERE lower(username) IN "
            "(SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1)"
        )
    )
    groups: dict[str, list[str]] = {}
    for (username,) in rows:
        groups.setdefault(username.lower(), []).append(username)
    return [sorted(groups[name]) for name in sorted(groups)]


def upgrade() -> None:
    clashes = _names_differing_only_by_case()
    if clashes:
        named = "; ".join(" and ".join(repr(name) for name in group) for group in clashes)
        raise Refused(
            f"usernames must be unique whatever their case, and these differ only by case: {named}. "
            "Rename all but one of each (UPDATE users SET username = ... WHERE id = ...), then upgrade again"
        )
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("uq_users_username_lower", "users")
    op.drop_index(op.f("ix_web_sessions_user_id"), "web_sessions")
    op.drop_table("web_sessions")
