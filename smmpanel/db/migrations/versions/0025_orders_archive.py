"""orders_archive: finished orders move out of the table that grows forever (issue 16, item 7)

An archive table, not declarative partitioning: PostgreSQL would need the partition key (a
time) in every unique key of ``orders`` (its id, the provider's order id), and SQLite has no
partitions at all. ``orders_archive`` has every column of ``orders`` and three indexes (a
customer's pages, a drip-feed's runs, a provider's order id); ``smmpanel.db.order_archive`` moves orders into it.

The rows that name an order keep naming it wherever it lives, so the foreign keys onto
``orders.id`` go: ``ledger_entries.order_id`` (the ledger stays untouched, append-only),
``refills.order_id``, ``orders_below_cost.order_id`` and, on PostgreSQL, ``orders.parent_id``
(SQLite never had it, migration 0002). On SQLite dropping a foreign key rebuilds the table:
this migration copies ``ledger_entries`` and ``refills`` once. Nothing ever deletes an order
any other way, and every writer takes an order id from an order it just read.

The order counts (0023) count both tables: the archive's own triggers add back what the
``orders`` delete trigger took away, so a move leaves every count as it was. The link search
(0024) gets the same index on the archive (pg_trgm; an FTS5 trigram table on SQLite).

Downgrade moves every archived order back into ``orders`` first.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONTO_ORDERS = (
    ("ledger_entries", "order_id"),
    ("refills", "order_id"),
    ("orders_below_cost", "order_id"),
    ("orders", "parent_id"),
)
"""The foreign keys onto ``orders.id``, each named ``fk_<table>_<column>_orders``."""

_DELTA = "INSERT INTO order_count_deltas (day, status, dispatch, n, upstream_charge) VALUES"
_ROW = (
    "(substr({0}.created_at, 1, 10), {0}.status, coalesce({0}.dispatch, ''), {1}1, {1}coalesce({0}.upstream_charge, 0))"
)
_ADD = "INSERT INTO orders_archive_link_search (rowid, link) VALUES (NEW.id, NEW.link);"
_REMOVE = (
    "INSERT INTO orders_archive_link_search (orders_archive_link_search, rowid, link)"
    " VALUES ('delete', OLD.id, OLD.link);"
)
_SQLITE = [
    f"CREATE TRIGGER orders_archive_counted AFTER INSERT ON orders_archive"
    f" BEGIN {_DELTA} {_ROW.format('NEW', '')}; END",
    f"CREATE TRIGGER orders_archive_uncounted AFTER DELETE ON orders_archive"
    f" BEGIN {_DELTA} {_ROW.format('OLD', '-')}; END",
    "CREATE VIRTUAL TABLE orders_archive_link_search"
    " USING fts5(link, content='orders_archive', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER orders_archive_link_indexed AFTER INSERT ON orders_archive BEGIN {_ADD} END",
    f"CREATE TRIGGER orders_archive_link_unindexed AFTER DELETE ON orders_archive BEGIN {_REMOVE} END",
]
_POSTGRES = [
    "CREATE TRIGGER orders_archive_counted AFTER INSERT OR DELETE ON orders_archive"
    " FOR EACH ROW EXECUTE FUNCTION order_count_delta()",
    "CREATE INDEX ix_orders_archive_link_trgm ON orders_archive USING gin (link gin_trgm_ops)",
]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _foreign_key(table: str, column: str) -> str:
    return f"fk_{table}_{column}_orders"


def _drop_foreign_keys() -> None:
    for table, column in ONTO_ORDERS:
        if _postgres():
            op.drop_constraint(_foreign_key(table, column), table, type_="foreignkey")
        elif table != "orders":
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.drop_constraint(_foreign_key(table, column), type_="foreignkey")


def _add_foreign_keys() -> None:
    for table, column in ONTO_ORDERS:
        if _postgres():
            op.create_foreign_key(_foreign_key(table, column), table, "orders", [column], ["id"])
        elif table != "orders":
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.create_foreign_key(_foreign_key(table, column), "orders", [column], ["id"])


def upgrade() -> None:
    orders = sa.Table("orders", sa.MetaData(), autoload_with=op.get_bind())
    op.create_table(
        "orders_archive",
        *(sa.Column(column.name, column.type, nullable=column.nullable) for column in orders.columns),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders_archive")),
    )
    op.create_index(op.f("ix_orders_archive_user_id_id"), "orders_archive", ["user_id", "id"])
    op.create_index(op.f("ix_orders_archive_parent_id"), "orders_archive", ["parent_id"])
    op.create_index(
        op.f("ix_orders_archive_provider_id_provider_order_id"), "orders_archive", ["provider_id", "provider_order_id"]
    )
    for statement in _POSTGRES if _postgres() else _SQLITE:
        op.execute(statement)
    _drop_foreign_keys()


def downgrade() -> None:
    columns = ", ".join(
        column.name for column in sa.Table("orders", sa.MetaData(), autoload_with=op.get_bind()).columns
    )
    op.execute(f"INSERT INTO orders ({columns}) SELECT {columns} FROM orders_archive")
    op.execute("DELETE FROM orders_archive")  # its triggers take back what the inserts counted
    _add_foreign_keys()
    if not _postgres():
        op.execute("DROP TABLE orders_archive_link_search")
    op.drop_table("orders_archive")  # its triggers and indexes with it
