"""PostgreSQL: the link search's trigram index also holds each order's status and customer

The operator's search by a part of a link with a status (``/admin/orders?q=…&status=Pending``)
was planned as the trigram index's bitmap ANDed with one of ``ix_orders_status_id``: at 10M
orders that second bitmap holds the 900,000 Pending orders, does not fit ``work_mem`` (4 MB)
and goes lossy, and the heap scan then reads every page that holds the part (16,000 pages for
a username 17,500 orders have: 174–500 ms). With the status (and the customer) as columns of
the same GIN index (``btree_gin``), the index scan itself keeps only the orders that have both,
skipping through the status's list from one candidate to the next, and the heap is read for
those alone (``benchmarks/RESULTS.md``, "The operator's search at 10,000,000 orders: a status,
short parts, SQLite": the gain at 10M not yet measured there).

The new index replaces migration 0024's (and 0025's on the archive): a search by a part alone
reads it as it read the old one (a GIN index answers any subset of its columns equally well).
A new row version adds two entries to the thirty-odd trigrams of its link: +3 µs of CPU per
insert (19.5 → 23 µs, same RESULTS section). The build locks writes to ``orders`` while it
runs (minutes at 10M orders), as 0024's did.

``btree_gin`` ships with PostgreSQL (contrib) and is a trusted extension, like ``pg_trgm``:
the migration runs ``CREATE EXTENSION IF NOT EXISTS btree_gin``. SQLite: nothing to do (its
FTS5 table gives the candidates, the status and customer filter them).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 18:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("orders", "orders_archive")
INDEX = "ix_{}_link_trgm_status_user_id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for table in TABLES:
        op.execute(f"CREATE INDEX {INDEX.format(table)} ON {table} USING gin (link gin_trgm_ops, status, user_id)")
        op.execute(f"DROP INDEX ix_{table}_link_trgm")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"CREATE INDEX ix_{table}_link_trgm ON {table} USING gin (link gin_trgm_ops)")
        op.execute(f"DROP INDEX {INDEX.format(table)}")
    # btree_gin stays, as pg_trgm does after 0024's downgrade: others may use it
