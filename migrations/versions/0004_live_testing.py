"""Live testing: delete_older_test_events(interval) and the ingested_at index the
auditlogger's retention sweeps use.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0004_live_testing.sql")


def downgrade() -> None:
    op.execute("DROP FUNCTION delete_older_test_events(interval);"
               " DROP INDEX testing.audit_event_ingested_at")
