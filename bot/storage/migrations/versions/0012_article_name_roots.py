"""question speed: names found at processing, articles' publication times indexed by id

`article_analyses.name_roots`: the roots of the words an article writes only as names, found once at processing.
`ix_articles_id_published_at`: the word side of a question dates its index hits from this index, not the rows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Analyses stored before this revision have none: a question finds those articles' names from their text.
    with op.batch_alter_table("article_analyses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_roots", sa.JSON(), nullable=True))
    op.create_index("ix_articles_id_published_at", "articles", ["id", "published_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_articles_id_published_at", table_name="articles")
    with op.batch_alter_table("article_analyses", schema=None) as batch_op:
        batch_op.drop_column("name_roots")
