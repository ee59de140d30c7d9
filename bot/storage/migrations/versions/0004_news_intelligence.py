"""news intelligence: article analyses, word index, story profile

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 15:20:06.904533
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article_analyses",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("processed_at", bot.storage.models.UTCDateTime(), nullable=False),
        sa.Column("encoder", sa.String(length=100), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("salient_countries", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("sentence_spans", sa.JSON(), nullable=False),
        sa.Column("sentence_vectors", sa.LargeBinary(), nullable=False),
        sa.Column("term_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_analyses_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_analyses")),
    )
    op.create_table(
        "article_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_terms_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("term", "article_id", name=op.f("pk_article_terms")),
    )
    with op.batch_alter_table("article_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_terms_article_id"), ["article_id"], unique=False)

    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("centroid", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("article_count", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("outlets", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column("publisher_countries", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column("countries", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column("regions", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column("topics", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column("entities", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column("first_published_at", bot.storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_published_at", bot.storage.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_stories_last_published_at"), ["last_published_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stories_last_published_at"))
        batch_op.drop_column("last_published_at")
        batch_op.drop_column("first_published_at")
        batch_op.drop_column("entities")
        batch_op.drop_column("topics")
        batch_op.drop_column("regions")
        batch_op.drop_column("countries")
        batch_op.drop_column("publisher_countries")
        batch_op.drop_column("outlets")
        batch_op.drop_column("article_count")
        batch_op.drop_column("centroid")

    with op.batch_alter_table("article_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_terms_article_id"))

    op.drop_table("article_terms")
    op.drop_table("article_analyses")
