-- snoopDB's conformance.eligible_endpoint_coverage, a materialized view as there (so
-- apisnoop's `refresh materialized view conformance.eligible_endpoint_coverage`
-- runs): per eligible endpoint, the earliest-promoted conformance test that hits
-- it. As apisnoop computes its published files, hits are the newest release's
-- coverage only (endpoint_test_hit, version 2): today's tests and what they hit,
-- each credited from its promotion release. "Conformance test" means "named in
-- the loaded conformance.yaml" (codename join); the historical tests imported
-- coverage files name count only while no conformance.yaml is loaded.
-- Refreshed by refresh_coverage() and by the loaders of specs, conformance.yaml
-- and ineligible endpoints, in their transactions.

CREATE MATERIALIZED VIEW conformance.eligible_endpoint_coverage AS
WITH first_appearance AS (
  SELECT o.endpoint,
         (array_agg(o.release ORDER BY r.sort_key))[1] AS first_release
  FROM open_api o
  JOIN conformance.eligible_endpoint USING (endpoint)
  JOIN release_order r ON r.release = o.release
  GROUP BY o.endpoint
), conformance_test AS (
  SELECT t.*
  FROM conformance.test t
  WHERE NOT t.historical
     OR NOT EXISTS (SELECT FROM conformance.test c WHERE NOT c.historical)
), conformance_hit AS (
  SELECT h.endpoint, t.release, r.sort_key, t.testname, t.codename, t.file
  FROM conformance_test t
  JOIN release_order r ON r.release = t.release
  JOIN endpoint_test_hit h ON h.test = t.codename
), first_test AS (
  -- snoopDB picks each column's first element separately, so tests promoted in
  -- the same release could mix; one whole row, ties broken by codename, instead.
  SELECT DISTINCT ON (endpoint) endpoint, release, testname, codename, file
  FROM conformance_hit
  ORDER BY endpoint, sort_key, codename
), test_releases AS (
  SELECT endpoint, array_agg(release ORDER BY sort_key) AS releases
  FROM (SELECT DISTINCT endpoint, release, sort_key FROM conformance_hit) AS distinct_release
  GROUP BY endpoint
)
SELECT f.endpoint,
       ft.release AS first_conformance_test,
       ft.testname AS test,
       ft.codename,
       ft.file,
       f.first_release,
       coalesce(tr.releases, '{}') AS all_test_releases
FROM first_appearance f
LEFT JOIN first_test ft USING (endpoint)
LEFT JOIN test_releases tr USING (endpoint)
ORDER BY f.endpoint;

CREATE UNIQUE INDEX eligible_endpoint_coverage_key ON conformance.eligible_endpoint_coverage (endpoint);
COMMENT ON MATERIALIZED VIEW conformance.eligible_endpoint_coverage IS
  'Per eligible endpoint: its first conformance test in the newest release''s coverage, when it first appeared, and the promotion releases of all conformance tests hitting it (refresh_coverage() refreshes it)';
COMMENT ON COLUMN conformance.eligible_endpoint_coverage.endpoint IS 'The eligible endpoint, as in open_api';
COMMENT ON COLUMN conformance.eligible_endpoint_coverage.first_conformance_test IS
  'Promotion release of the earliest conformance test that hits it in the newest release''s coverage; may be earlier than the endpoint; null if none';
COMMENT ON COLUMN conformance.eligible_endpoint_coverage.test IS 'testname of that first test, as in conformance.yaml';
COMMENT ON COLUMN conformance.eligible_endpoint_coverage.codename IS 'codename of that first test, as the user agent carries it';
COMMENT ON COLUMN conformance.eligible_endpoint_coverage.file IS 'File defining that first test';
COMMENT ON COLUMN conformance.eligible_endpoint_coverage.first_release IS 'Earliest loaded release whose spec has the endpoint';
COMMENT ON COLUMN conformance.eligible_endpoint_coverage.all_test_releases IS
  'Distinct promotion releases of the conformance tests that hit it, oldest first; empty if none';
