"""story follow-ups: updates in the thread of the message that carried a story, and breaking alerts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("updates", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column("alerts", sa.JSON(), nullable=True))
    with op.batch_alter_table("delivered_stories") as batch:
        batch.add_column(sa.Column("message_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("seen_articles", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("seen_sentences", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("followed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivered_stories") as batch:
        batch.drop_column("followed_at")
        batch.drop_column("seen_sentences")
        batch.drop_column("seen_articles")
        batch.drop_column("message_id")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("alerts")
        batch.drop_column("updates")
