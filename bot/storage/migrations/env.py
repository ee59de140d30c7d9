"""Alembic environment: runs on the engine the bot hands over in `config.attributes`."""

from alembic import context
from sqlalchemy import Engine

from bot.storage.db import own_schema_object
from bot.storage.models import Base

engine: Engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things in place
        compare_type=True,
        include_name=own_schema_object,  # autogenerate leaves the task queue's tables alone
    )
    with context.begin_transaction():
        context.run_migrations()
