-- Which tests hit which endpoint in any release, materialized for the codename
-- join of conformance.eligible_endpoint_coverage (snoopDB joins every release's
-- events, not only the latest). Keyed by test first: the join starts from the few
-- hundred conformance tests. Refreshed by refresh_coverage().

CREATE MATERIALIZED VIEW endpoint_test_hit AS
SELECT DISTINCT test, endpoint
FROM endpoint_hit
WHERE test IS NOT NULL;

CREATE UNIQUE INDEX endpoint_test_hit_key ON endpoint_test_hit (test, endpoint);
COMMENT ON MATERIALIZED VIEW endpoint_test_hit IS
  'Every (test, endpoint) pair hit in any release''s runs (from endpoint_hit; refresh_coverage() refreshes it)';
COMMENT ON COLUMN endpoint_test_hit.test IS 'Test name from the user agent ('''' = an e2e.test user agent without a test name)';
COMMENT ON COLUMN endpoint_test_hit.endpoint IS 'The operationId it hit';
