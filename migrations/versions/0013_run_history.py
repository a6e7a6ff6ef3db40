"""Coverage across runs: each prow run's build, start, commit and result; per-release
summaries of what each run hit; the stability views.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

from snoopdb.db.schema import install_version, run_sql_file

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# In dependency order: each uses only objects created before it.
VIEWS = (
    ("refresh_coverage", 5),
    ("run_coverage", 1),
    ("endpoint_stability", 1),
    ("test_endpoint_stability", 1),
    ("conformance.stable_coverage", 1),
    ("conformance.stable_progress", 1),
)


def upgrade() -> None:
    bind = op.get_bind()
    run_sql_file(bind, "schema/0013_run_history.sql")
    for name, version in VIEWS:
        install_version(bind, name, version)
    op.execute("SELECT refresh_coverage()")


def downgrade() -> None:
    bind = op.get_bind()
    run_sql_file(bind, "schema/0013_run_history_downgrade.sql")
    install_version(bind, "refresh_coverage", 4)
    op.execute("SELECT refresh_coverage()")
