"""The views by the names apisnoop's talks use, and a role that can only read: the
database's search_path names public, conformance and testing; `snoopdb query` runs its
statement as snoopdb_reader (SELECT only) through reader_rows().

Revision ID: 0016
Revises: 0015
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0016_reader.sql")


def downgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0016_reader_downgrade.sql")
