"""articles.page_pending: backlog teasers whose page the backfill still has to fetch

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Articles stored before this revision keep what they have: none of them waits for a page.
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_pending", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f("ix_articles_page_pending"), ["page_pending"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_page_pending"))
        batch_op.drop_column("page_pending")
