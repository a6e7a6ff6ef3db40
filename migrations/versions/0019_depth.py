"""Depth coverage: the parameters and status codes operations declare, those events
used (per run, per release), and the views over them (docs/depth.md).

Revision ID: 0019
Revises: 0018
"""

from alembic import op

from snoopdb.db.schema import install_version, run_sql_file

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# In dependency order: each uses only objects created before it.
VIEWS = (
    ("release_param_hit", 1),
    ("release_status_hit", 1),
    ("refresh_coverage", 6),
    ("delete_older_test_events", 3),
    ("release_with_events", 1),
    ("endpoint_parameter_coverage", 1),
    ("endpoint_status_coverage", 1),
    ("endpoint_parameter_value", 1),
    ("endpoint_depth", 1),
    ("conformance.non_ga_call", 1),
)


def upgrade() -> None:
    bind = op.get_bind()
    run_sql_file(bind, "schema/0019_depth.sql")
    for name, version in VIEWS:
        install_version(bind, name, version)
    op.execute("SELECT refresh_coverage()")


def downgrade() -> None:
    bind = op.get_bind()
    op.execute("DROP VIEW conformance.non_ga_call, endpoint_depth, endpoint_parameter_value,"
               " endpoint_status_coverage, endpoint_parameter_coverage, release_with_events")
    # version 5 creates add_run_coverage; its partitions of the depth summaries go
    # with their tables
    op.execute("DROP FUNCTION add_run_coverage(bigint)")
    op.execute("DROP TABLE release_param_hit, release_status_hit")
    install_version(bind, "refresh_coverage", 5)
    install_version(bind, "delete_older_test_events", 2)
    run_sql_file(bind, "schema/0019_depth_downgrade.sql")
    op.execute("SELECT refresh_coverage()")
