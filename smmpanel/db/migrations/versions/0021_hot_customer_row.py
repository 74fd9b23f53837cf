"""PostgreSQL: a customer's row stays fast under their sustained orders (issue 17)

Every order updates its customer's ``users`` row (the balance) and inserted an ``orders`` row
and a ``ledger_entries`` row whose foreign keys to ``users`` took ``FOR KEY SHARE`` on that
same row: with many orders of one customer in flight, each lock on a row being updated made a
MultiXact, and the row's versions piled up (benchmarks/RESULTS.md, "Sustained add"). Those two
foreign keys go on PostgreSQL (customers are never deleted: nothing in the panel deletes a
``users`` row, and every writer takes the id from the customer it just read); SQLite keeps them
(one writer at a time, no row locks, and dropping one would rebuild the table).

Also on PostgreSQL, per-table storage parameters: ``users`` leaves half of each page free
(``fillfactor``), so a balance update finds room for its new version on the same page (a HOT
update, no index entry), and is vacuumed after every 1,000 dead versions instead of 20 % of
the table, which a small table that one customer rewrites all day never reached. The ledger and
the orders, insert-mostly and ever-growing, are vacuumed (visibility map, index-only scans) and
analysed after a fixed number of new rows rather than a share of the table.

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = (("orders", "fk_orders_user_id_users"), ("ledger_entries", "fk_ledger_entries_user_id_users"))
STORAGE = {
    "users": "fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000",
    "orders": (
        "autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 100000, "
        "autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 100000"
    ),
    "ledger_entries": (
        "autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 100000, "
        "autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 100000"
    ),
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    for table, name in DROPPED:
        op.drop_constraint(name, table, type_="foreignkey")
    for table, parameters in STORAGE.items():
        op.execute(f"ALTER TABLE {table} SET ({parameters})")


def downgrade() -> None:
    if not _postgres():
        return
    for table, parameters in STORAGE.items():
        names = ", ".join(part.split("=")[0].strip() for part in parameters.split(","))
        op.execute(f"ALTER TABLE {table} RESET ({names})")
    for table, name in DROPPED:
        op.create_foreign_key(name, table, "users", ["user_id"], ["id"])
