"""archive full-text search: the word index moves into the database's own engine

PostgreSQL: `article_analyses.search_terms` (tsvector of the article's terms, from our tokenizer) with a GIN index.
SQLite: the FTS5 table `article_search` (rowid = article id), and `article_search_instances` (fts5vocab) to read an
article's term counts back. Both are filled from `article_terms`, which is then dropped; a downgrade rebuilds it.
Also an index on `article_analyses.processed_at` (the vector index follows processing by it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Terms keep the characters our tokenizer allows inside a word ("u.s", "al-sisi", "o'neill", "2,000").
# Terms are stored as our tokenizer wrote them: no diacritics folding, so an article's counts read back exactly.
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE article_search USING fts5"
    "(terms, tokenize = \"unicode61 remove_diacritics 0 tokenchars '-''.,'\")"
)
SQLITE_VOCAB = "CREATE VIRTUAL TABLE article_search_instances USING fts5vocab(article_search, 'instance')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE article_analyses ADD COLUMN search_terms tsvector")
        # One entry per term (occurrence counts of the old index are not kept; newly processed articles have them).
        op.execute(
            "UPDATE article_analyses AS a SET search_terms = t.terms FROM ("
            " SELECT article_id, array_to_tsvector(array_agg(term)) AS terms FROM article_terms GROUP BY article_id"
            ") AS t WHERE a.article_id = t.article_id"
        )
        op.execute("CREATE INDEX ix_article_analyses_search_terms ON article_analyses USING gin (search_terms)")
    else:
        op.execute(SQLITE_FTS)
        op.execute(SQLITE_VOCAB)
        op.execute(
            "INSERT INTO article_search (rowid, terms) "
            "SELECT article_id, group_concat(term, ' ') FROM article_terms GROUP BY article_id"
        )
    op.drop_index(op.f("ix_article_terms_article_id"), table_name="article_terms")
    op.drop_table("article_terms")
    # The vector index reads what was processed since its last look, and answers are stamped with the latest.
    op.create_index(op.f("ix_article_analyses_processed_at"), "article_analyses", ["processed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_article_analyses_processed_at"), table_name="article_analyses")
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
    op.create_index(op.f("ix_article_terms_article_id"), "article_terms", ["article_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO article_terms (term, article_id, count) "
            "SELECT lexeme, article_id, coalesce(array_length(positions, 1), 1) "
            "FROM article_analyses, unnest(search_terms) WHERE length(lexeme) <= 64"
        )
        op.execute("DROP INDEX ix_article_analyses_search_terms")
        op.execute("ALTER TABLE article_analyses DROP COLUMN search_terms")
    else:
        op.execute(
            "INSERT INTO article_terms (term, article_id, count) "
            "SELECT term, doc, count(*) FROM article_search_instances WHERE length(term) <= 64 GROUP BY term, doc"
        )
        op.execute("DROP TABLE article_search_instances")
        op.execute("DROP TABLE article_search")
