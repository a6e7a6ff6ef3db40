-- Version 3 (revision 0010): the same pairs as version 2, read from the newest
-- release's partition of release_endpoint_hit (its test lists) rather than from every
-- hit row of its runs, so a refresh costs the size of one release's summary whatever
-- the number of runs. Names are schema-qualified: PostgreSQL 17 and later refresh
-- materialized views with search_path = pg_catalog, pg_temp.

CREATE MATERIALIZED VIEW endpoint_test_hit AS
SELECT DISTINCT t.test, h.endpoint
FROM public.release_endpoint_hit h
CROSS JOIN LATERAL unnest(h.tests) AS t(test)
WHERE h.release = (SELECT public.coverage_release());

CREATE UNIQUE INDEX endpoint_test_hit_key ON endpoint_test_hit (test, endpoint);
COMMENT ON MATERIALIZED VIEW endpoint_test_hit IS
  'Every (test, endpoint) pair hit in the newest release''s coverage, coverage_release() (from release_endpoint_hit; refresh_release_coverage() refreshes it)';
COMMENT ON COLUMN endpoint_test_hit.test IS 'Test name from the user agent ('''' = an e2e.test user agent without a test name)';
COMMENT ON COLUMN endpoint_test_hit.endpoint IS 'The operationId it hit';
