"""one local order per provider's order id: the engine's twin check becomes a unique index

An accepted send used to lock its provider's row so that concurrent answers were checked for a
twin (an upstream id already given to another order) one after the other, which serialized
every worker on that row. The unique index makes the database refuse the twin instead.

Rows that already share an upstream id (an operator's ``set-upstream``, or a late answer to an
abandoned send) keep it on their oldest order only; the others lose the id, keep it in their
attention reason, and a ``sent`` one goes to the attention list (it was syncing another
order's status).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_orders_provider_id_provider_order_id"

_TWINS = """
UPDATE orders SET
    attention_reason = 'its provider gave order id ' || provider_order_id || ' to an older order too',
    dispatch = CASE WHEN dispatch = 'sent' THEN 'attention' ELSE dispatch END,
    next_attempt_at = CASE WHEN dispatch = 'sent' THEN NULL ELSE next_attempt_at END,
    provider_order_id = NULL
WHERE provider_order_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM orders AS older
    WHERE older.provider_id = orders.provider_id
      AND older.provider_order_id = orders.provider_order_id
      AND older.id < orders.id
)
"""


def upgrade() -> None:
    op.execute(sa.text(_TWINS))
    op.drop_index(INDEX, "orders")
    op.create_index(INDEX, "orders", ["provider_id", "provider_order_id"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, "orders")
    op.create_index(INDEX, "orders", ["provider_id", "provider_order_id"])
