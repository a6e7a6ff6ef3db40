-- snoopDB's conformance.progress: per release from 1.8.0 on, the eligible
-- endpoints that existed then and how conformance tests caught up with them.
-- Version 2: computed as apisnoop computes its published conformance-progress.json,
-- from the newest release's coverage (conformance.eligible_endpoint_coverage,
-- version 2), so importing more history never changes it; where no release has
-- coverage data at all, the tested counts are null (no data), not 0.
-- Only endpoints eligible today count (an endpoint removed since is not in
-- eligible_endpoint), as in snoopDB. Rows in release order (1.9.0 before 1.10.0).

CREATE VIEW conformance.progress AS
WITH endpoint_per_release AS (
  SELECT o.release, r.sort_key, o.endpoint
  FROM open_api o
  JOIN conformance.eligible_endpoint USING (endpoint)
  JOIN release_order r ON r.release = o.release
), coverage AS (
  -- with the sort keys of its releases, for the earlier/later comparisons
  SELECT c.endpoint, c.first_release, c.first_conformance_test, c.all_test_releases,
         first_release.sort_key AS first_release_key, first_test.sort_key AS first_test_key
  FROM conformance.eligible_endpoint_coverage c
  JOIN release_order first_release ON first_release.release = c.first_release
  LEFT JOIN release_order first_test ON first_test.release = c.first_conformance_test
), has_data AS (
  SELECT coverage_release() IS NOT NULL AS known
), counted AS (
  SELECT epr.release, epr.sort_key,
         count(*) FILTER (WHERE epr.release = c.first_release) AS new_endpoints,
         count(*) FILTER (WHERE epr.release = c.first_release
                            AND epr.release = ANY (c.all_test_releases)) AS new_endpoints_promoted_with_tests,
         count(*) FILTER (WHERE epr.release = c.first_release
                            AND c.first_conformance_test = c.first_release) AS new_endpoints_covered_by_new_tests,
         count(*) FILTER (WHERE epr.release = c.first_release
                            AND c.first_test_key < epr.sort_key) AS new_endpoints_covered_by_old_tests,
         count(*) FILTER (WHERE c.first_release_key < epr.sort_key
                            AND c.first_conformance_test = epr.release) AS old_endpoints_covered_by_new_tests,
         count(*) AS total_endpoints,
         count(*) FILTER (WHERE c.first_release_key <= epr.sort_key
                            AND c.first_test_key <= epr.sort_key) AS total_tested_endpoints,
         count(*) FILTER (WHERE epr.release = c.first_release
                            AND c.first_conformance_test IS NULL) AS endpoints_still_untested_today
  FROM endpoint_per_release epr
  LEFT JOIN coverage c USING (endpoint)
  WHERE epr.sort_key >= release_key('1.8.0')
  GROUP BY epr.release, epr.sort_key
)
SELECT c.release,
       c.new_endpoints,
       -- the tests of the loaded conformance.yaml (the historical ones imported files
       -- name only while none is loaded, as in eligible_endpoint_coverage)
       (SELECT count(*) FROM conformance.test t
        WHERE t.release = c.release
          AND (NOT t.historical
               OR NOT EXISTS (SELECT FROM conformance.test l WHERE NOT l.historical))) AS new_tests,
       CASE WHEN d.known THEN c.new_endpoints_promoted_with_tests END AS new_endpoints_promoted_with_tests,
       CASE WHEN d.known THEN c.new_endpoints_covered_by_new_tests END AS new_endpoints_covered_by_new_tests,
       CASE WHEN d.known THEN c.new_endpoints_covered_by_old_tests END AS new_endpoints_covered_by_old_tests,
       CASE WHEN d.known THEN c.old_endpoints_covered_by_new_tests END AS old_endpoints_covered_by_new_tests,
       c.total_endpoints,
       CASE WHEN d.known THEN c.total_tested_endpoints END AS total_tested_endpoints,
       CASE WHEN d.known THEN c.endpoints_still_untested_today END AS endpoints_still_untested_today
FROM counted c, has_data d
ORDER BY c.sort_key;

COMMENT ON VIEW conformance.progress IS
  'Per release from 1.8.0: new eligible endpoints, new conformance tests, and how many endpoints tests cover';
COMMENT ON COLUMN conformance.progress.release IS 'The release, X.Y.Z';
COMMENT ON COLUMN conformance.progress.new_endpoints IS '# of eligible endpoints that first appear in this release';
COMMENT ON COLUMN conformance.progress.new_tests IS '# of tests of the loaded conformance.yaml promoted to conformance in this release';
COMMENT ON COLUMN conformance.progress.new_endpoints_promoted_with_tests IS
  '# of new endpoints hit by a test promoted in this release: endpoint and test promoted together (null: no coverage data)';
COMMENT ON COLUMN conformance.progress.new_endpoints_covered_by_new_tests IS
  '# of new endpoints whose first conformance test was promoted in this release (null: no coverage data)';
COMMENT ON COLUMN conformance.progress.new_endpoints_covered_by_old_tests IS
  '# of new endpoints whose first conformance test was promoted in an earlier release (null: no coverage data)';
COMMENT ON COLUMN conformance.progress.old_endpoints_covered_by_new_tests IS
  '# of older endpoints first covered by a test promoted in this release: conformance debt paid (null: no coverage data)';
COMMENT ON COLUMN conformance.progress.total_endpoints IS '# of eligible endpoints in this release';
COMMENT ON COLUMN conformance.progress.total_tested_endpoints IS
  '# of those endpoints covered, in the newest release''s coverage, by a conformance test promoted in this release or earlier (null: no coverage data)';
COMMENT ON COLUMN conformance.progress.endpoints_still_untested_today IS
  '# of new endpoints of this release that no conformance test hits today (null: no coverage data)';
