"""Field-level coverage: body schemas per release, field tallies, their views.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

from snoopdb.db.schema import install_version, run_sql_file

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# In dependency order.
VIEWS = (
    ("release_field_hit", 1),
    ("release_body_hit", 1),
    ("refresh_coverage", 3),
    ("endpoint_field_coverage", 1),
    ("field_coverage_summary", 1),
    ("endpoint_unknown_field", 1),
    ("testing.field_hit_by_new_test", 1),
    ("delete_older_test_events", 2),
)


def upgrade() -> None:
    run_sql_file(op.get_bind(), "schema/0009_fields.sql")
    for name, version in VIEWS:
        install_version(op.get_bind(), name, version)


def downgrade() -> None:
    install_version(op.get_bind(), "delete_older_test_events", 1)
    install_version(op.get_bind(), "refresh_coverage", 2)
    op.execute(
        "DROP VIEW testing.field_hit_by_new_test, endpoint_unknown_field,"
        " field_coverage_summary, endpoint_field_coverage;"
        " DROP MATERIALIZED VIEW release_body_hit, release_field_hit;"
        " DROP TABLE testing.body_hit, testing.field_hit, endpoint_body_hit,"
        " endpoint_field_hit, body_field, body_schema, endpoint_body"
    )
