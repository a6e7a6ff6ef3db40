"""testing.field_hit's user agents indexed by hash: a live test name of any length is
stored (a btree refused keys past one index page, and with them the batch).

Revision ID: 0014
Revises: 0013
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0014_live_useragent_hash.sql")


def downgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0014_live_useragent_hash_downgrade.sql")
