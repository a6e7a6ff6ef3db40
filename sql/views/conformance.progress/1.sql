-- snoopDB's conformance.progress: per release from 1.8.0 on, the eligible
-- endpoints that existed then and how conformance tests caught up with them.
-- Only endpoints eligible today count (an endpoint removed since is not in
-- eligible_endpoint), as in snoopDB.

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
)
SELECT epr.release,
       count(*) FILTER (WHERE epr.release = c.first_release) AS new_endpoints,
       -- historical tests are old names of tests still listed: counting them would count twice
       (SELECT count(*) FROM conformance.test t
        WHERE t.release = epr.release AND NOT t.historical) AS new_tests,
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
ORDER BY epr.sort_key;

COMMENT ON VIEW conformance.progress IS
  'Per release from 1.8.0: new eligible endpoints, new conformance tests, and how many endpoints tests cover';
COMMENT ON COLUMN conformance.progress.release IS 'The release, X.Y.Z';
COMMENT ON COLUMN conformance.progress.new_endpoints IS '# of eligible endpoints that first appear in this release';
COMMENT ON COLUMN conformance.progress.new_tests IS '# of tests of the loaded conformance.yaml promoted to conformance in this release';
COMMENT ON COLUMN conformance.progress.new_endpoints_promoted_with_tests IS
  '# of new endpoints hit by a test promoted in this release: endpoint and test promoted together';
COMMENT ON COLUMN conformance.progress.new_endpoints_covered_by_new_tests IS
  '# of new endpoints whose first conformance test was promoted in this release';
COMMENT ON COLUMN conformance.progress.new_endpoints_covered_by_old_tests IS
  '# of new endpoints whose first conformance test was promoted in an earlier release';
COMMENT ON COLUMN conformance.progress.old_endpoints_covered_by_new_tests IS
  '# of older endpoints first covered by a test promoted in this release: conformance debt paid';
COMMENT ON COLUMN conformance.progress.total_endpoints IS '# of eligible endpoints in this release';
COMMENT ON COLUMN conformance.progress.total_tested_endpoints IS
  '# of those endpoints covered by a conformance test promoted in this release or earlier';
COMMENT ON COLUMN conformance.progress.endpoints_still_untested_today IS
  '# of new endpoints of this release that no conformance test hits today';
