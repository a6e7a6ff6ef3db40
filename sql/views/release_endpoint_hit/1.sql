-- Summary of endpoint_hit per (release, endpoint), materialized because
-- endpoint_coverage would otherwise aggregate every hit row of every run on each
-- query. Refreshed by refresh_coverage() after each load of endpoint_hit.

CREATE MATERIALIZED VIEW release_endpoint_hit AS
SELECT release,
       endpoint,
       bool_or(test_hit) AS tested,
       bool_or(conf_test_hit) AS conf_tested,
       -- Only test user agents name a test; null (non-test user agent) is left out
       -- rather than kept as a null element the way snoopDB's array_agg does.
       coalesce(array_agg(DISTINCT test ORDER BY test) FILTER (WHERE test IS NOT NULL), '{}') AS tests
FROM endpoint_hit
GROUP BY release, endpoint;

CREATE UNIQUE INDEX release_endpoint_hit_key ON release_endpoint_hit (release, endpoint);
COMMENT ON MATERIALIZED VIEW release_endpoint_hit IS
  'Per release and endpoint hit in that release''s runs: whether tests hit it and which (from endpoint_hit; refresh_coverage() refreshes it)';
COMMENT ON COLUMN release_endpoint_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_endpoint_hit.endpoint IS 'The operationId hit';
COMMENT ON COLUMN release_endpoint_hit.tested IS 'Hit at least once by a test (e2e.test) user agent';
COMMENT ON COLUMN release_endpoint_hit.conf_tested IS 'Hit at least once by a [Conformance] user agent';
COMMENT ON COLUMN release_endpoint_hit.tests IS 'Distinct test names that hit it, sorted ('''' = an e2e.test user agent without a test name)';
