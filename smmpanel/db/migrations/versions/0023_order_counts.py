"""order counts kept by triggers: /metrics and the overview stop counting the orders table

Every insert or delete of an order, and every change of its status, engine state or upstream
charge, appends one delta row per side (-1 and minus the charge for the old, +1 and the charge
for the new) in the writer's own transaction: an insert into a table with no secondary index,
so writers share no lock. Readers add the folded
totals (``order_counts``) and the deltas not folded yet; the panel folds them now and then.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DELTA = "INSERT INTO order_count_deltas (day, status, dispatch, n, upstream_charge) VALUES"

_POSTGRES = [
    f"""
    CREATE FUNCTION order_count_delta() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            {_DELTA} (OLD.created_at::date, OLD.status, coalesce(OLD.dispatch, ''),
                -1, -coalesce(OLD.upstream_charge, 0));
        END IF;
        IF TG_OP <> 'DELETE' THEN
            {_DELTA} (NEW.created_at::date, NEW.status, coalesce(NEW.dispatch, ''),
                1, coalesce(NEW.upstream_charge, 0));
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER orders_counted AFTER INSERT OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION order_count_delta()
    """,
    """
    CREATE TRIGGER orders_recounted AFTER UPDATE OF status, dispatch, upstream_charge ON orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.dispatch IS DISTINCT FROM NEW.dispatch
        OR OLD.upstream_charge IS DISTINCT FROM NEW.upstream_charge)
    EXECUTE FUNCTION order_count_delta()
    """,
]

_OLD = "(substr(OLD.created_at, 1, 10), OLD.status, coalesce(OLD.dispatch, ''), -1, -coalesce(OLD.upstream_charge, 0))"
_NEW = "(substr(NEW.created_at, 1, 10), NEW.status, coalesce(NEW.dispatch, ''), 1, coalesce(NEW.upstream_charge, 0))"
_SQLITE = [
    f"CREATE TRIGGER orders_counted AFTER INSERT ON orders BEGIN {_DELTA} {_NEW}; END",
    f"CREATE TRIGGER orders_uncounted AFTER DELETE ON orders BEGIN {_DELTA} {_OLD}; END",
    f"""
    CREATE TRIGGER orders_recounted AFTER UPDATE OF status, dispatch, upstream_charge ON orders
    WHEN OLD.status IS NOT NEW.status OR OLD.dispatch IS NOT NEW.dispatch
        OR OLD.upstream_charge IS NOT NEW.upstream_charge
    BEGIN {_DELTA} {_OLD}, {_NEW}; END
    """,
]

_DAY = {"postgresql": "created_at::date", "sqlite": "substr(created_at, 1, 10)"}


def upgrade() -> None:
    op.create_table(
        "order_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dispatch", sa.String(16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("upstream_charge", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "status", "dispatch", name=op.f("pk_order_counts")),
    )
    op.create_table(
        "order_count_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dispatch", sa.String(16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("upstream_charge", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_count_deltas")),
    )
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES if dialect == "postgresql" else _SQLITE:
        op.execute(statement)
    day = _DAY[dialect]
    op.execute(
        "INSERT INTO order_counts (day, status, dispatch, n, upstream_charge)"
        f" SELECT {day}, status, coalesce(dispatch, ''), count(*), coalesce(sum(upstream_charge), 0)"
        f" FROM orders GROUP BY {day}, status, coalesce(dispatch, '')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER orders_recounted ON orders")
        op.execute("DROP TRIGGER orders_counted ON orders")
        op.execute("DROP FUNCTION order_count_delta()")
    else:
        for name in ("orders_recounted", "orders_uncounted", "orders_counted"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("order_count_deltas")
    op.drop_table("order_counts")
