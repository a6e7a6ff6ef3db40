"""Alembic environment: migrates over the connection snoopdb hands in (see database.migrate)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
