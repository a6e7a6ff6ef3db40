"""One eligibility rule: the pending list loaded beside the ineligible one, and
endpoint_eligibility, per release each endpoint's level (a group's discovery operation
at its group's most stable version), eligibility and reason, read by every consumer.

Revision ID: 0020
Revises: 0017
"""

from alembic import op

from snoopdb.db.schema import install_version, run_sql_file

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None


# In dependency order: the relation, then what reads it (each replaced in place).
VIEWS = (
    ("endpoint_eligibility", 1),
    ("conformance.eligible_endpoint", 2),
    ("conformance.stable_coverage", 2),
    ("testing.untested_stable_endpoint", 2),
    ("testing.projected_change_in_coverage", 2),
)


def upgrade() -> None:
    bind = op.get_bind()
    run_sql_file(bind, "schema/0020_eligibility.sql")
    for name, version in VIEWS:
        install_version(bind, name, version)


def downgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0020_eligibility_downgrade.sql")
