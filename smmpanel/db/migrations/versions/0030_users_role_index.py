"""The members of staff are found through an index, not by reading every customer

``Users.with_roles`` (the staff list, and the staff filters of the audit and ticket pages) asked
for the users holding a staff role with ``role IN (…)``, which no index answered: PostgreSQL read
the whole ``users`` table, 100,000 customers in the benchmark, to find a handful of operators,
on every load of four operator pages (``benchmarks/explain.py``, RESULTS.md, "The engine beside
10 million orders"). An index on ``(role, id)`` finds them in their order.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 19:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_role_id", "users", ["role", "id"])


def downgrade() -> None:
    op.drop_index("ix_users_role_id", table_name="users")
