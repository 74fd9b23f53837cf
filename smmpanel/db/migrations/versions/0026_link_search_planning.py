"""PostgreSQL: a link search is planned for how common its part is, and walks the orders in one process

The operator's search writes its pattern into the statement (``smmpanel.db.link_search``) so
that the planner estimates, from the column's histogram, how many orders contain it: many, and
it walks the orders newest first and stops after a page; few, and it asks the trigram index.
With the default 100 histogram entries any part held by under about 1 % of the orders reads
as "rare" (the estimate is clamped at 0.01 %), so a part that 17,000 of ten million orders
hold (a popular profile bought for again and again) went through the index and fetched every
one of them to sort them: 167–250 ms. With 1,000 entries such a part is seen as common
enough for the newest-first walk (26–58 ms; ``benchmarks/RESULTS.md``, "The operator's search
at 10,000,000 orders, realistic links"). ANALYZE samples 300,000 orders instead of 30,000.

The newest-first walk is also kept out of parallel plans (``parallel_workers = 0`` on
``orders``): for a ``LIMIT`` 51 walk a Gather Merge starts two workers that each read ahead of
what the page needs, and on a busy 2-core machine the same search took 900–1,218 ms in
parallel against 34–72 ms in one process (147–216 against 45–67 ms through the use case).
None of the statements ``benchmarks/explain.py`` explains (the pages, the scrape, an engine
pass) reads every order at 10M (RESULTS, "Scale: 10 million orders"); the one search that
does, a link part shorter than a trigram that no order has, takes 37 s in one process instead
of 8–21 s in parallel: far past any page's patience either way.
SQLite has neither: nothing to do there.

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-04 14:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS = 1000


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE orders ALTER COLUMN link SET STATISTICS {STATISTICS}")
        op.execute("ALTER TABLE orders SET (parallel_workers = 0)")
        op.execute("ANALYZE orders (link)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE orders RESET (parallel_workers)")
        op.execute("ALTER TABLE orders ALTER COLUMN link SET STATISTICS -1")
