"""Certification submissions: per-release conformance lists, verified submissions,
their testcases and checks, and the missing-test view.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from snoopdb.db.schema import run_sql_file

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0005_submission.sql")


def downgrade() -> None:
    op.execute(
        "DROP VIEW conformance.submission_missing_test;"
        " DROP TABLE conformance.submission_check, conformance.submission_testcase,"
        " conformance.submission, conformance.release_test"
    )
