"""Audit runs: audit_event becomes a view over per-run partitions of compressed chunks.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0008_audit_runs.sql")


def downgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0008_audit_runs_downgrade.sql")
