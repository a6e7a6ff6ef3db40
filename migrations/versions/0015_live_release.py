"""Live events' one release, said by the schema too: testing.field_hit's fields are
known or not by the body schema of the newest loaded spec, the release live events are
mapped against (it said the latest release's, the views' newest with coverage data).

Revision ID: 0015
Revises: 0014
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0015_live_release.sql")


def downgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0015_live_release_downgrade.sql")
