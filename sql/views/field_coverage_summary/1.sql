-- Per endpoint with a body: how many of its fields the release's bodies set.
-- observed_bodies = 0 tells an endpoint no body was ever logged for (Metadata
-- level, or never called) from one whose bodies left fields unset. Counts
-- come from body_schema (its field count) and release_field_hit, both small, so
-- the summary never expands the per-endpoint field rows.

CREATE VIEW field_coverage_summary AS
WITH set_fields AS (
  SELECT h.release, h.endpoint,
         count(*) FILTER (WHERE h.known AND h.tested) AS tested_fields,
         count(*) FILTER (WHERE h.known AND h.conf_tested) AS conf_tested_fields,
         count(*) FILTER (WHERE NOT h.known) AS unknown_fields
  FROM release_field_hit h
  GROUP BY h.release, h.endpoint
)
SELECT b.release,
       b.endpoint,
       d.fields,
       coalesce(s.tested_fields, 0) AS tested_fields,
       coalesce(s.conf_tested_fields, 0) AS conf_tested_fields,
       coalesce(bh.bodies, 0) AS observed_bodies,
       coalesce(bh.test_bodies, 0) AS test_bodies,
       coalesce(bh.conf_bodies, 0) AS conf_bodies,
       coalesce(s.unknown_fields, 0) AS unknown_fields,
       b.definition,
       b.how
FROM endpoint_body b
JOIN open_api o ON o.release = b.release AND o.endpoint = b.endpoint AND NOT o.deprecated
JOIN body_schema d ON d.release = b.release AND d.definition = b.definition
LEFT JOIN set_fields s ON s.release = b.release AND s.endpoint = b.endpoint
LEFT JOIN release_body_hit bh ON bh.release = b.release AND bh.endpoint = b.endpoint;

COMMENT ON VIEW field_coverage_summary IS
  'Per release and non-deprecated endpoint with a request body: its fields, those tests set, and how many bodies were logged';
COMMENT ON COLUMN field_coverage_summary.release IS 'Release of the spec and of the runs, X.Y.Z';
COMMENT ON COLUMN field_coverage_summary.endpoint IS 'The operationId';
COMMENT ON COLUMN field_coverage_summary.fields IS 'Fields of its body schema (endpoint_field_coverage rows)';
COMMENT ON COLUMN field_coverage_summary.tested_fields IS 'Of them, set by a test (e2e.test) user agent';
COMMENT ON COLUMN field_coverage_summary.conf_tested_fields IS 'Of them, set by a [Conformance] user agent';
COMMENT ON COLUMN field_coverage_summary.observed_bodies IS 'Audit events of the release that carried a body for it (0: no body logged, so nothing is known of its fields)';
COMMENT ON COLUMN field_coverage_summary.test_bodies IS 'Of them, from test user agents';
COMMENT ON COLUMN field_coverage_summary.conf_bodies IS 'Of them, from [Conformance] user agents';
COMMENT ON COLUMN field_coverage_summary.unknown_fields IS 'Paths bodies set that its schema does not have (endpoint_unknown_field lists them)';
COMMENT ON COLUMN field_coverage_summary.definition IS 'The body''s definition in the spec';
COMMENT ON COLUMN field_coverage_summary.how IS 'body, or patch (the patched resource''s fields)';
