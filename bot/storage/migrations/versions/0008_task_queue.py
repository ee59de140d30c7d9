"""task queue: procrastinate's tables, functions and triggers (PostgreSQL only; SQLite runs model work inline)

The schema is procrastinate 3.10.0's own, kept beside the migrations (sql/procrastinate-3.10.0.sql). Upgrading
procrastinate means a new migration that applies its SQL migrations between the two versions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 10:00:00.000000
"""

import re
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).resolve().parent.parent / "sql" / "procrastinate-3.10.0.sql"


def _created(kind: str) -> list[str]:
    return re.findall(rf"^CREATE {kind} (procrastinate_\w+)", SCHEMA.read_text(encoding="utf-8"), flags=re.MULTILINE)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Straight to psycopg: the script has several statements, $$ bodies and '%' in messages.
        bind.connection.driver_connection.execute(SCHEMA.read_text(encoding="utf-8"))  # type: ignore[union-attr]


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in reversed(_created("TABLE")):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    for function in _created("FUNCTION"):
        op.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    for type_name in _created("TYPE"):
        op.execute(f"DROP TYPE IF EXISTS {type_name} CASCADE")
