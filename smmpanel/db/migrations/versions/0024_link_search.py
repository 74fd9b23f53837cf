"""the operator's search by any part of a link, on an index instead of a scan of every order

PostgreSQL: a pg_trgm GIN index on ``orders.link`` (``ILIKE '%part%'`` uses it; the extension
is created here, which needs a role allowed to create it). SQLite: an FTS5 table with the
trigram tokenizer (SQLite 3.34 or newer), kept by triggers, whose ``LIKE`` finds the candidate
orders; the exact test of today's search still decides. Neither is in ``smmpanel.db.tables``:
they are indexes of one back end each (tests/integration/test_migrations.py lists them).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 13:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ADD = "INSERT INTO orders_link_search (rowid, link) VALUES (NEW.id, NEW.link);"
_REMOVE = "INSERT INTO orders_link_search (orders_link_search, rowid, link) VALUES ('delete', OLD.id, OLD.link);"
_SQLITE = [
    "CREATE VIRTUAL TABLE orders_link_search"
    " USING fts5(link, content='orders', content_rowid='id', tokenize='trigram')",
    "INSERT INTO orders_link_search (orders_link_search) VALUES ('rebuild')",
    f"CREATE TRIGGER orders_link_indexed AFTER INSERT ON orders BEGIN {_ADD} END",
    f"CREATE TRIGGER orders_link_unindexed AFTER DELETE ON orders BEGIN {_REMOVE} END",
    f"CREATE TRIGGER orders_link_reindexed AFTER UPDATE OF link ON orders BEGIN {_REMOVE} {_ADD} END",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_orders_link_trgm ON orders USING gin (link gin_trgm_ops)")
        return
    for statement in _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_orders_link_trgm")  # the extension stays: others may use it
        return
    for name in ("orders_link_reindexed", "orders_link_unindexed", "orders_link_indexed"):
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE orders_link_search")
