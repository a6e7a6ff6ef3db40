"""audit_event read through partitions: the runs' tables are partitions of runs.events
(hot) and runs.chunks (compact), by release then by source, so a query restricted to
one run or release locks and plans that run's or release's tables only.

Revision ID: 0021
Revises: 0020
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0021_event_partitions.sql")


def downgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0021_event_partitions_downgrade.sql")
