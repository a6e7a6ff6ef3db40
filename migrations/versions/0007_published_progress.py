"""Published progress: the conformance views count the newest release's coverage only,
as apisnoop's published files do; eligible_endpoint_coverage is materialized;
a release without coverage data says so.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

from snoopdb.db.schema import install_version

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# What reads endpoint_test_hit, dropped before it is replaced and installed again after.
DROP_DEPENDENTS = (
    "DROP VIEW conformance.new_endpoint, conformance.coverage_per_release, conformance.progress",
)


# endpoint_test_hit (version 2) reads release_endpoint_hit, which a database restored
# from a schema-only dump has never populated: populate it first.
POPULATE_RELEASE_ENDPOINT_HIT = """
DO $$ BEGIN
  IF NOT (SELECT relispopulated FROM pg_class WHERE oid = 'release_endpoint_hit'::regclass) THEN
    REFRESH MATERIALIZED VIEW release_endpoint_hit;
  END IF;
END $$
"""


def upgrade() -> None:
    bind = op.get_bind()
    op.execute(POPULATE_RELEASE_ENDPOINT_HIT)
    for statement in DROP_DEPENDENTS:
        op.execute(statement)
    op.execute("DROP VIEW conformance.eligible_endpoint_coverage")
    op.execute("DROP MATERIALIZED VIEW endpoint_test_hit")
    install_version(bind, "latest_release", 2)
    install_version(bind, "coverage_release", 1)
    install_version(bind, "endpoint_test_hit", 2)
    install_version(bind, "conformance.eligible_endpoint_coverage", 2)
    install_version(bind, "refresh_coverage", 2)
    install_version(bind, "conformance.progress", 2)
    install_version(bind, "conformance.coverage_per_release", 2)
    install_version(bind, "conformance.new_endpoint", 1)
    install_version(bind, "endpoint_coverage", 2)
    install_version(bind, "release_coverage", 1)


def downgrade() -> None:
    bind = op.get_bind()
    op.execute("DROP VIEW release_coverage")
    # endpoint_coverage version 1 is a CREATE VIEW: its dependents go and come back
    op.execute("DROP VIEW testing.projected_change_in_coverage, testing.endpoint_hit_by_new_test,"
               " testing.untested_stable_endpoint, endpoint_coverage")
    install_version(bind, "endpoint_coverage", 1)
    for name in ("testing.untested_stable_endpoint", "testing.endpoint_hit_by_new_test",
                 "testing.projected_change_in_coverage"):
        install_version(bind, name, 1)
    for statement in DROP_DEPENDENTS:
        op.execute(statement)
    op.execute("DROP MATERIALIZED VIEW conformance.eligible_endpoint_coverage")
    op.execute("DROP MATERIALIZED VIEW endpoint_test_hit")
    op.execute("DROP FUNCTION refresh_coverage()")
    op.execute("DROP FUNCTION coverage_release()")
    op.execute("ALTER FUNCTION latest_release() RESET search_path")
    for name in ("endpoint_test_hit", "refresh_coverage", "conformance.eligible_endpoint_coverage",
                 "conformance.progress", "conformance.coverage_per_release",
                 "conformance.new_endpoint"):
        install_version(bind, name, 1)
