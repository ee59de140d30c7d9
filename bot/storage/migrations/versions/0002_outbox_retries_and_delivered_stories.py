"""outbox retries and delivered stories

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 15:07:35.060498
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "delivered_stories",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivered_stories_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_delivered_stories_story_id_stories"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_delivered_stories_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "story_id", name=op.f("pk_delivered_stories")),
    )
    with op.batch_alter_table("delivered_stories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivered_stories_delivery_id"), ["delivery_id"], unique=False)

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", bot.storage.models.UTCDateTime(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")

    with op.batch_alter_table("delivered_stories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivered_stories_delivery_id"))

    op.drop_table("delivered_stories")
