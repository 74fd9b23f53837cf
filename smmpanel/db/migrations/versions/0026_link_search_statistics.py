"""PostgreSQL: finer statistics of ``orders.link``, so that a link search is planned for how common its part is

The operator's search writes its pattern into the statement (``smmpanel.db.link_search``) so
that the planner estimates, from the column's histogram, how many orders contain it: many, and
it walks the orders newest first and stops after a page; few, and it asks the trigram index.
With the default 100 histogram entries any part held by under about 1 % of the orders reads
as "rare" (the estimate is clamped at 0.01 %), so a part that 17,000 of ten million orders
hold (a popular profile bought for again and again) went through the index and fetched every
one of them to sort them: 167–250 ms. With 1,000 entries such a part is seen as common
enough for the newest-first walk (26–58 ms; ``benchmarks/RESULTS.md``, "The operator's search
at 10,000,000 orders, realistic links"). ANALYZE samples 300,000 orders instead of 30,000.
SQLite has no such statistics: nothing to do there.

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-04 14:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS = 1000


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE orders ALTER COLUMN link SET STATISTICS {STATISTICS}")
        op.execute("ANALYZE orders (link)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE orders ALTER COLUMN link SET STATISTICS -1")
