"""story re-clustering: word profiles, merged stories, storyline links

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article_analyses") as batch:
        batch.add_column(sa.Column("story_terms", sa.JSON(), nullable=True))
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_stories_merged_into_id_stories"), "stories", ["merged_into_id"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "story_links",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("related_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["related_id"], ["stories.id"], name=op.f("fk_story_links_related_id_stories"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_story_links_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("story_id", "related_id", name=op.f("pk_story_links")),
    )
    op.create_index(op.f("ix_story_links_related_id"), "story_links", ["related_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_story_links_related_id"), table_name="story_links")
    op.drop_table("story_links")
    with op.batch_alter_table("stories") as batch:
        batch.drop_constraint(batch.f("fk_stories_merged_into_id_stories"), type_="foreignkey")
        batch.drop_column("merged_into_id")
    with op.batch_alter_table("article_analyses") as batch:
        batch.drop_column("story_terms")
