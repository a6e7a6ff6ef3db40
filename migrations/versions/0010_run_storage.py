"""Run storage: hot runs as indexed rows, older runs compact; summaries per run and per release.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

from snoopdb.db.schema import install_version, run_sql_file

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Everything that reads endpoint_hit, endpoint_field_hit or endpoint_body_hit, which
# become views over the per-run partitions: dropped, dependents first, and installed
# again after them (VIEWS). The per-release summaries become partitioned tables.
DROP_DEPENDENTS = (
    "DROP VIEW testing.projected_change_in_coverage",
    "DROP VIEW conformance.coverage_per_release, conformance.new_endpoint, conformance.progress,"
    " testing.endpoint_hit_by_new_test, testing.untested_stable_endpoint",
    "DROP MATERIALIZED VIEW conformance.eligible_endpoint_coverage",
    "DROP VIEW audit_event_test, endpoint_coverage, release_coverage",
    "DROP VIEW endpoint_field_coverage, endpoint_unknown_field, field_coverage_summary,"
    " release_order, testing.field_hit_by_new_test",
    "DROP MATERIALIZED VIEW endpoint_test_hit, release_body_hit, release_endpoint_hit,"
    " release_field_hit, release_test_hit",
    "DROP TABLE endpoint_hit, endpoint_field_hit, endpoint_body_hit",
)

# In dependency order: each uses only objects created before it.
VIEWS = (
    ("endpoint_hit", 1),
    ("endpoint_field_hit", 1),
    ("endpoint_body_hit", 1),
    ("release_endpoint_hit", 2),
    ("release_test_hit", 2),
    ("release_field_hit", 2),
    ("release_body_hit", 2),
    ("endpoint_test_hit", 3),
    ("refresh_coverage", 4),
    ("release_order", 1),
    ("endpoint_coverage", 1),  # version 2 replaces its body and keeps 1's comments
    ("endpoint_coverage", 2),
    ("audit_event_test", 1),
    ("conformance.eligible_endpoint_coverage", 2),
    ("conformance.progress", 2),
    ("conformance.coverage_per_release", 2),
    ("conformance.new_endpoint", 1),
    ("release_coverage", 1),
    ("testing.untested_stable_endpoint", 1),
    ("testing.endpoint_hit_by_new_test", 1),
    ("testing.projected_change_in_coverage", 1),
    ("endpoint_field_coverage", 1),
    ("field_coverage_summary", 1),
    ("endpoint_unknown_field", 1),
    ("testing.field_hit_by_new_test", 1),
)

# What revision 0009 had in their place, in dependency order (for the downgrade).
VIEWS_0009 = (
    ("release_endpoint_hit", 1),
    ("release_test_hit", 1),
    ("endpoint_test_hit", 2),
    ("release_field_hit", 1),
    ("release_body_hit", 1),
    ("refresh_coverage", 3),
    *VIEWS[9:],
)


def upgrade() -> None:
    bind = op.get_bind()
    run_sql_file(bind, "schema/0010_run_storage.sql")
    for statement in DROP_DEPENDENTS:
        op.execute(statement)
    for name, version in VIEWS:
        install_version(bind, name, version)
    op.execute("SELECT refresh_coverage()")


def downgrade() -> None:
    bind = op.get_bind()
    run_sql_file(bind, "schema/0010_run_storage_downgrade.sql")
    for name, version in VIEWS_0009:
        install_version(bind, name, version)
    op.execute("SELECT refresh_coverage()")
