"""History: open_api.imported, for imports of apisnoop's published per-release coverage.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0006_history.sql")


def downgrade() -> None:
    op.execute(
        "ALTER TABLE open_api DROP COLUMN imported;"
        " COMMENT ON COLUMN endpoint_hit.hits IS 'Number of audit events'"
    )
