"""revenue per day kept by a trigger: the overview stops summing the ledger's last 30 days

Every charge or refund entry appends one delta row (the day, and what the entry did to the
panel's revenue: minus its amount) in the writer's own transaction, into a table with no
secondary index, so writers share no lock; the panel folds the deltas into ``revenue_days``
when it counts the orders (``smmpanel.db.report_repositories``). The ledger is append-only, so
an insert trigger sees every change. Before this, the overview read every entry of its window:
5.4 s at 10,000,000 orders placed within it (benchmarks/RESULTS.md).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = "('charge', 'refund')"
_DELTA = "INSERT INTO revenue_deltas (day, amount) VALUES"

_POSTGRES = [
    f"""
    CREATE FUNCTION revenue_delta() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_DELTA} (NEW.created_at::date, -NEW.amount);
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE TRIGGER ledger_revenue AFTER INSERT ON ledger_entries
    FOR EACH ROW WHEN (NEW.kind IN {_KINDS}) EXECUTE FUNCTION revenue_delta()
    """,
]
_SQLITE = [
    f"""
    CREATE TRIGGER ledger_revenue AFTER INSERT ON ledger_entries WHEN NEW.kind IN {_KINDS}
    BEGIN {_DELTA} (substr(NEW.created_at, 1, 10), -NEW.amount); END
    """,
]
_DAY = {"postgresql": "created_at::date", "sqlite": "substr(created_at, 1, 10)"}


def upgrade() -> None:
    op.create_table(
        "revenue_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_revenue_days")),
    )
    op.create_table(
        "revenue_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revenue_deltas")),
    )
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES if dialect == "postgresql" else _SQLITE:
        op.execute(statement)
    day = _DAY[dialect]
    op.execute(
        f"INSERT INTO revenue_days (day, amount) SELECT {day}, -sum(amount) FROM ledger_entries"
        f" WHERE kind IN {_KINDS} GROUP BY {day}"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_revenue ON ledger_entries")
        op.execute("DROP FUNCTION revenue_delta()")
    else:
        op.execute("DROP TRIGGER ledger_revenue")
    op.drop_table("revenue_deltas")
    op.drop_table("revenue_days")
