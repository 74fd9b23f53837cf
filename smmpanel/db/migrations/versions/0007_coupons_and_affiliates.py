"""coupons and affiliates: codes and their redemptions, referral codes, commissions, payouts

Also ``users.referrer_id``: who referred a customer, kept on the referred customer for good.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:30:19
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("max_uses IS NULL OR uses <= max_uses", name=op.f("ck_coupons_uses_within_limit")),
        sa.CheckConstraint("value > 0", name=op.f("ck_coupons_value_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
    )
    op.create_table(
        "affiliate_payouts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_affiliate_payouts_amount_positive")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_affiliate_payouts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_payouts")),
    )
    op.create_index(op.f("ix_affiliate_payouts_user_id_id"), "affiliate_payouts", ["user_id", "id"], unique=False)
    op.create_table(
        "affiliates",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("percent", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_affiliates_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_affiliates")),
        sa.UniqueConstraint("code", name=op.f("uq_affiliates_code")),
    )
    op.create_table(
        "coupon_redemptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("coupon_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"], name=op.f("fk_coupon_redemptions_coupon_id_coupons")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_coupon_redemptions_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_coupon_redemptions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_redemptions")),
        sa.UniqueConstraint("coupon_id", "user_id", name=op.f("uq_coupon_redemptions_coupon_id_user_id")),
    )
    op.create_index(op.f("ix_coupon_redemptions_user_id_id"), "coupon_redemptions", ["user_id", "id"], unique=False)
    op.create_index(
        "ix_coupon_redemptions_user_id_waiting",
        "coupon_redemptions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status = 'waiting'"),
        sqlite_where=sa.text("status = 'waiting'"),
    )
    op.create_table(
        "affiliate_commissions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("referrer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("referred_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deposit", sa.BigInteger(), nullable=False),
        sa.Column("percent", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("payout_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["affiliate_payouts.id"], name=op.f("fk_affiliate_commissions_payout_id_affiliate_payouts")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_affiliate_commissions_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(["referred_id"], ["users.id"], name=op.f("fk_affiliate_commissions_referred_id_users")),
        sa.ForeignKeyConstraint(["referrer_id"], ["users.id"], name=op.f("fk_affiliate_commissions_referrer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_commissions")),
        sa.UniqueConstraint("payment_id", "kind", name=op.f("uq_affiliate_commissions_payment_id_kind")),
    )
    op.create_index(
        op.f("ix_affiliate_commissions_referrer_id_id"), "affiliate_commissions", ["referrer_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_affiliate_commissions_referrer_id_status"),
        "affiliate_commissions",
        ["referrer_id", "status"],
        unique=False,
    )
    op.add_column(
        "users", sa.Column("referrer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
    )
    op.create_index(op.f("ix_users_referrer_id"), "users", ["referrer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_users_referrer_id"), table_name="users")
    op.drop_column("users", "referrer_id")
    op.drop_index(op.f("ix_affiliate_commissions_referrer_id_status"), table_name="affiliate_commissions")
    op.drop_index(op.f("ix_affiliate_commissions_referrer_id_id"), table_name="affiliate_commissions")
    op.drop_table("affiliate_commissions")
    op.drop_index(
        "ix_coupon_redemptions_user_id_waiting",
        table_name="coupon_redemptions",
        postgresql_where=sa.text("status = 'waiting'"),
        sqlite_where=sa.text("status = 'waiting'"),
    )
    op.drop_index(op.f("ix_coupon_redemptions_user_id_id"), table_name="coupon_redemptions")
    op.drop_table("coupon_redemptions")
    op.drop_table("affiliates")
    op.drop_index(op.f("ix_affiliate_payouts_user_id_id"), table_name="affiliate_payouts")
    op.drop_table("affiliate_payouts")
    op.drop_table("coupons")
