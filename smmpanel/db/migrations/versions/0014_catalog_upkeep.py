"""the catalog's upkeep: provider currencies and scheduled syncs, loss rules, change lists

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "provider_catalogs",
        sa.Column("provider_id", Id, nullable=False),
        sa.Column("currency", sa.String(8), nullable=True),
        sa.Column("exchange_rate", sa.String(32), nullable=False, server_default="1"),
        sa.Column("sync_minutes", sa.Integer(), nullable=True),
        sa.Column("synced_at", sa.DateTime(), nullable=True),
        sa.Column("sync_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_provider_catalogs_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_provider_catalogs")),
    )
    op.create_table(
        "service_upkeep",
        sa.Column("service_id", Id, nullable=False),
        sa.Column("loss_rule", sa.String(8), nullable=False, server_default="raise"),
        sa.Column("operator_fields", sa.String(255), nullable=False, server_default=""),
        sa.Column("at_loss", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("sync_disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], name=op.f("fk_service_upkeep_service_id_services")),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_service_upkeep")),
    )
    op.create_table(
        "catalog_changes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("provider_id", Id, nullable=True),
        sa.Column("service_id", Id, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_catalog_changes_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], name=op.f("fk_catalog_changes_service_id_services")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_changes")),
    )
    op.create_index(op.f("ix_catalog_changes_provider_id_id"), "catalog_changes", ["provider_id", "id"])
    op.create_table(
        "orders_below_cost",
        sa.Column("order_id", Id, nullable=False),
        sa.Column("provider_id", Id, nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_orders_below_cost_order_id_orders")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders_below_cost")),
    )


def downgrade() -> None:
    op.drop_table("orders_below_cost")
    op.drop_index(op.f("ix_catalog_changes_provider_id_id"), "catalog_changes")
    op.drop_table("catalog_changes")
    op.drop_table("service_upkeep")
    op.drop_table("provider_catalogs")
