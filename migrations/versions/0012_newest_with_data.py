"""The latest release is the newest with coverage data: a spec loaded without any no
longer empties the views that speak of the latest release.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

from snoopdb.db.schema import install_version, run_sql_file

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    install_version(op.get_bind(), "latest_release", 3)
    install_version(op.get_bind(), "endpoint_coverage", 3)


def downgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0012_newest_with_data_downgrade.sql")
