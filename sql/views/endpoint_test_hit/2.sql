-- Which tests hit which endpoint in the newest release's coverage (coverage_release()),
-- materialized for the codename join of conformance.eligible_endpoint_coverage.
-- Version 1 took every release's hits; apisnoop's published progress files come
-- from one release's run only (its database holds the newest release's events), so
-- importing older releases' coverage must not change what counts as tested.
-- Keyed by test first: the join starts from the few hundred conformance tests.
-- Refreshed by refresh_coverage() after release_endpoint_hit, which it reads.

CREATE MATERIALIZED VIEW endpoint_test_hit AS
SELECT DISTINCT h.test, h.endpoint
FROM endpoint_hit h
WHERE h.release = (SELECT coverage_release())
  AND h.test IS NOT NULL;

CREATE UNIQUE INDEX endpoint_test_hit_key ON endpoint_test_hit (test, endpoint);
COMMENT ON MATERIALIZED VIEW endpoint_test_hit IS
  'Every (test, endpoint) pair hit in the newest release''s coverage, coverage_release() (from endpoint_hit; refresh_coverage() refreshes it)';
COMMENT ON COLUMN endpoint_test_hit.test IS 'Test name from the user agent ('''' = an e2e.test user agent without a test name)';
COMMENT ON COLUMN endpoint_test_hit.endpoint IS 'The operationId it hit';
