"""Pull requests: which one a submission's verification was of; testcase names indexed
by their md5, so a name of any length is stored.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

from snoopdb.db.schema import install_version, run_sql_file

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0011_pull_requests.sql")
    install_version(op.get_bind(), "conformance.submission_missing_test", 2)


def downgrade() -> None:
    install_version(op.get_bind(), "conformance.submission_missing_test", 1)
    op.execute(
        "DROP INDEX conformance.submission_testcase_conformance;"
        " CREATE INDEX submission_testcase_conformance"
        " ON conformance.submission_testcase (submission_id, name) WHERE conformance;"
        " ALTER TABLE conformance.submission DROP COLUMN pull_request;"
        " COMMENT ON COLUMN conformance.submission.path IS 'Folder that was verified';"
        " COMMENT ON COLUMN conformance.release_test.first_release IS"
        " 'First release listed in the test''s release: field (v1.9, v1.18 -> 1.9.0):"
        " submissions for this release or later must pass it'"
    )
