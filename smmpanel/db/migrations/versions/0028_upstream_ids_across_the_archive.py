"""a provider's order id belongs to one local order in ``orders`` and ``orders_archive`` together

The engine's twin check is the unique index on ``orders (provider_id, provider_order_id)``
(0022): a provider answering an order id it already gave for another order fails the write,
and that order goes to the attention list, never sent again. Once the first order moved to
``orders_archive`` (0025) the index no longer saw it, and the twin was taken as ``sent``,
syncing the archived order's status from then on. A unique index cannot span two tables, so
a trigger on ``orders`` refuses a provider's order id an archived order holds, with the
unique index's own error (``IntegrityError``: PostgreSQL's ``unique_violation``, SQLite's
constraint error): every writer that handles the index's refusal handles this one alike. It
fires only for a row that gets a provider's order id (a send accepted, an operator's
``set-upstream``, an order moved back from the archive), one probe of the archive's
``(provider_id, provider_order_id)`` index.

On PostgreSQL the trigger runs after the row (and its unique index entry) is written, and its
probe takes a fresh snapshot: an archiver moving the holder at that moment has either made the
writer wait on the unique index until it committed (then the probe sees the holder archived) or
not started (then the holder is still in ``orders`` and the unique index refuses the twin).
Checked before the row, a twin could slip between an archiver's delete and its commit. SQLite's
writers take turns: there the check runs before the row.

Twins already made since 0025 keep the id on the oldest order only, as 0022 did: the others
lose it, keep it in their attention reason, and a ``sent`` one goes to the attention list.

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-04 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "orders_upstream_id_archived"

_HELD = (
    "EXISTS (SELECT 1 FROM orders_archive AS held WHERE held.provider_id = {0}.provider_id"
    " AND held.provider_order_id = {0}.provider_order_id AND held.id <> {0}.id)"
)
"""An archived order other than this one holds this row's provider order id (``{0}``: the row)."""

_POSTGRES_FUNCTION = f"""
CREATE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_HELD.format("NEW")} THEN
        RAISE EXCEPTION 'duplicate key value violates unique constraint "{NAME}"'
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Key (provider_id, provider_order_id)=(%s, %s) is an archived order''s.',
                                  NEW.provider_id, NEW.provider_order_id);
    END IF;
    RETURN NULL;
END $$
"""
_POSTGRES_TRIGGER = (
    f"CREATE TRIGGER {NAME} AFTER INSERT OR UPDATE OF provider_id, provider_order_id ON orders"
    f" FOR EACH ROW WHEN (NEW.provider_order_id IS NOT NULL) EXECUTE FUNCTION {NAME}()"
)
_SQLITE_EVENTS = {"insert": "INSERT", "update": "UPDATE OF provider_id, provider_order_id"}
_SQLITE_TRIGGER = (
    "CREATE TRIGGER {name}_{suffix} BEFORE {event} ON orders"
    " WHEN NEW.provider_order_id IS NOT NULL AND {held}"
    " BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: orders.provider_id, orders.provider_order_id"
    " (an archived order holds it)'); END"
)

_REASON = "'its provider gave order id ' || provider_order_id || ' to an older order too'"
_OLDER = (
    "EXISTS (SELECT 1 FROM {older} AS older WHERE older.provider_id = {table}.provider_id"
    " AND older.provider_order_id = {table}.provider_order_id AND older.id < {table}.id)"
)
_UNTWIN_HOT = f"""
UPDATE orders SET
    attention_reason = {_REASON},
    dispatch = CASE WHEN dispatch = 'sent' THEN 'attention' ELSE dispatch END,
    next_attempt_at = CASE WHEN dispatch = 'sent' THEN NULL ELSE next_attempt_at END,
    provider_order_id = NULL
WHERE provider_order_id IS NOT NULL AND {_OLDER.format(older="orders_archive", table="orders")}
"""
_UNTWIN_ARCHIVED = f"""
UPDATE orders_archive SET attention_reason = {_REASON}, provider_order_id = NULL
WHERE provider_order_id IS NOT NULL AND ({_OLDER.format(older="orders", table="orders_archive")}
    OR {_OLDER.format(older="orders_archive", table="orders_archive")})
"""
"""Run after ``_UNTWIN_HOT``: whichever order of a set is the oldest keeps the id, whatever table it is in."""


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.execute(sa.text(_UNTWIN_HOT))
    op.execute(sa.text(_UNTWIN_ARCHIVED))
    if _postgres():
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
        return
    for suffix, event in _SQLITE_EVENTS.items():
        op.execute(_SQLITE_TRIGGER.format(name=NAME, suffix=suffix, event=event, held=_HELD.format("NEW")))


def downgrade() -> None:
    if _postgres():
        op.execute(f"DROP TRIGGER {NAME} ON orders")
        op.execute(f"DROP FUNCTION {NAME}()")
        return
    for suffix in _SQLITE_EVENTS:
        op.execute(f"DROP TRIGGER {NAME}_{suffix}")
