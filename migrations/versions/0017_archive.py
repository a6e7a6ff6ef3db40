"""The archive tier: a third state for a run, archived (its events in a Parquet file
outside the database, its summaries kept); the keep-compact and archive settings.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0017_archive.sql")


def downgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0017_archive_downgrade.sql")
