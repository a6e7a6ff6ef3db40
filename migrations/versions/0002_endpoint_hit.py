"""endpoint_hit: per release × run × endpoint × test hit counts, the views' summary.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0002_endpoint_hit.sql")


def downgrade() -> None:
    op.execute("DROP TABLE endpoint_hit")
