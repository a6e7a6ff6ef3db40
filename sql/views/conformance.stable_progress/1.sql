-- conformance.progress with coverage that holds across runs: an endpoint counts as
-- covered by its first conformance test (conformance.eligible_endpoint_coverage)
-- only when a [Conformance] user agent hit it in at least share min_share_setting()
-- (snoopdb.min_share, default 1.0) of the runs of the newest release with coverage
-- (coverage_release(): every job's runs, imported coverage a run of its own), as
-- conformance.stable_coverage counts them. With one run per release it equals
-- conformance.progress, which keeps apisnoop's rule (the newest run) unchanged.
-- Same columns and rows as conformance.progress.

CREATE VIEW conformance.stable_progress AS
WITH endpoint_per_release AS (
  SELECT o.release, r.sort_key, o.endpoint
  FROM open_api o
  JOIN conformance.eligible_endpoint USING (endpoint)
  JOIN release_order r ON r.release = o.release
), newest AS (
  SELECT coverage_release() AS release, min_share_setting() AS share
), stable AS (
  -- conformance-tested in at least share S of the newest release's runs
  SELECT h.endpoint
  FROM release_run_hit h
  JOIN newest n ON n.release = h.release
  GROUP BY h.endpoint, n.share
  HAVING count(*) FILTER (WHERE h.conf_tested)
           >= n.share * (SELECT count(*) FROM audit_run r
                         WHERE r.release = (SELECT release FROM newest) AND r.state <> 'loading')
), coverage AS (
  -- with the sort keys of its releases, for the earlier/later comparisons; an
  -- endpoint conformance tests hit in too few runs has no conformance test
  SELECT c.endpoint, c.first_release,
         CASE WHEN s.endpoint IS NOT NULL THEN c.first_conformance_test END AS first_conformance_test,
         CASE WHEN s.endpoint IS NOT NULL THEN c.all_test_releases ELSE '{}' END AS all_test_releases,
         first_release.sort_key AS first_release_key,
         CASE WHEN s.endpoint IS NOT NULL THEN first_test.sort_key END AS first_test_key
  FROM conformance.eligible_endpoint_coverage c
  JOIN release_order first_release ON first_release.release = c.first_release
  LEFT JOIN release_order first_test ON first_test.release = c.first_conformance_test
  LEFT JOIN stable s ON s.endpoint = c.endpoint
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

COMMENT ON VIEW conformance.stable_progress IS
  'conformance.progress counting an endpoint as conformance-tested only when hit in at least share min_share_setting() of the newest release''s runs';
COMMENT ON COLUMN conformance.stable_progress.release IS 'The release, X.Y.Z';
COMMENT ON COLUMN conformance.stable_progress.new_endpoints IS '# of eligible endpoints that first appear in this release';
COMMENT ON COLUMN conformance.stable_progress.new_tests IS '# of tests of the loaded conformance.yaml promoted to conformance in this release';
COMMENT ON COLUMN conformance.stable_progress.new_endpoints_promoted_with_tests IS
  '# of new endpoints hit by a test promoted in this release: endpoint and test promoted together (null: no coverage data)';
COMMENT ON COLUMN conformance.stable_progress.new_endpoints_covered_by_new_tests IS
  '# of new endpoints whose first conformance test was promoted in this release (null: no coverage data)';
COMMENT ON COLUMN conformance.stable_progress.new_endpoints_covered_by_old_tests IS
  '# of new endpoints whose first conformance test was promoted in an earlier release (null: no coverage data)';
COMMENT ON COLUMN conformance.stable_progress.old_endpoints_covered_by_new_tests IS
  '# of older endpoints first covered by a test promoted in this release: conformance debt paid (null: no coverage data)';
COMMENT ON COLUMN conformance.stable_progress.total_endpoints IS '# of eligible endpoints in this release';
COMMENT ON COLUMN conformance.stable_progress.total_tested_endpoints IS
  '# of those endpoints covered, in the newest release''s coverage, by a conformance test promoted in this release or earlier (null: no coverage data)';
COMMENT ON COLUMN conformance.stable_progress.endpoints_still_untested_today IS
  '# of new endpoints of this release that no conformance test hits today (null: no coverage data)';
