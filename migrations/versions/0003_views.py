"""Coverage views: snoopDB's views over endpoint_hit, their materialized summaries
(refreshed by refresh_coverage()) and the describe_* functions.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from snoopdb.db.schema import install_version

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Version 1 of each view, in dependency order: each uses only objects created before it.
VIEWS = (
    "latest_release",
    "release_endpoint_hit",
    "release_test_hit",
    "endpoint_test_hit",
    "refresh_coverage",
    "release_order",
    "endpoint_coverage",
    "audit_event_test",
    "conformance.eligible_endpoint",
    "conformance.eligible_endpoint_coverage",
    "conformance.progress",
    "conformance.coverage_per_release",
    "conformance.new_endpoint",
    "testing.untested_stable_endpoint",
    "testing.endpoint_hit_by_new_test",
    "testing.projected_change_in_coverage",
    "describe",
)

# The reverse of VIEWS.
DROPS = (
    ("DROP FUNCTION describe_column(text, text, text), describe_columns(text, text),"
     " describe_relation(text, text), describe_relations()"),
    ("DROP VIEW testing.projected_change_in_coverage, testing.endpoint_hit_by_new_test,"
     " testing.untested_stable_endpoint, conformance.new_endpoint,"
     " conformance.coverage_per_release, conformance.progress,"
     " conformance.eligible_endpoint_coverage, conformance.eligible_endpoint,"
     " audit_event_test, endpoint_coverage, release_order"),
    "DROP FUNCTION refresh_coverage()",
    "DROP MATERIALIZED VIEW endpoint_test_hit, release_test_hit, release_endpoint_hit",
    "DROP FUNCTION latest_release()",
)


def upgrade() -> None:
    for name in VIEWS:
        install_version(op.get_bind(), name, 1)


def downgrade() -> None:
    for statement in DROPS:
        op.execute(statement)
