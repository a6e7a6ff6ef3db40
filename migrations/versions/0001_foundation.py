"""Foundation: open_api, audit_event, conformance and testing tables, load_log.

Revision ID: 0001
Revises:
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0001_foundation.sql")


def downgrade() -> None:
    op.execute(
        "DROP TABLE load_log, testing.audit_event, conformance.ineligible_endpoint,"
        " conformance.test, audit_event, open_api;"
        " DROP FUNCTION release_key(text); DROP SCHEMA testing; DROP SCHEMA conformance"
    )
