-- Summary of endpoint_field_hit per (release, endpoint, field), materialized so
-- that the field views never aggregate every run's rows on each query.
-- Refreshed by refresh_coverage() (version 2) after each load.

CREATE MATERIALIZED VIEW release_field_hit AS
SELECT release,
       endpoint,
       field,
       known,
       bool_or(test_hit) AS tested,
       bool_or(conf_test_hit) AS conf_tested,
       coalesce(array_agg(DISTINCT test ORDER BY test) FILTER (WHERE test IS NOT NULL), '{}') AS tests,
       sum(hits)::bigint AS hits
FROM endpoint_field_hit
GROUP BY release, endpoint, field, known;

CREATE UNIQUE INDEX release_field_hit_key ON release_field_hit (release, endpoint, field, known);
COMMENT ON MATERIALIZED VIEW release_field_hit IS
  'Per release, endpoint and field set by a request body of that release''s runs: whether tests set it and which (from endpoint_field_hit; refresh_coverage() refreshes it)';
COMMENT ON COLUMN release_field_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_field_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN release_field_hit.field IS 'Field path';
COMMENT ON COLUMN release_field_hit.known IS 'The field is in the endpoint''s body schema';
COMMENT ON COLUMN release_field_hit.tested IS 'Set by a body from a test (e2e.test) user agent';
COMMENT ON COLUMN release_field_hit.conf_tested IS 'Set by a body from a [Conformance] user agent';
COMMENT ON COLUMN release_field_hit.tests IS 'Distinct test names whose bodies set it, sorted';
COMMENT ON COLUMN release_field_hit.hits IS 'Number of bodies that set it';
