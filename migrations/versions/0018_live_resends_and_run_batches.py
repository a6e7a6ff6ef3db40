"""Live events found by their auditID within their source, so that a batch the API
server resends (after a lost 200) is not stored twice; runs dropped in batches, the
audit_event view rewritten once per batch.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0018_live_resends_and_run_batches.sql")


def downgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0018_live_resends_and_run_batches_downgrade.sql")
