-- snoopDB's testing.projected_change_in_coverage, version 2 (revision 0020): snoopDB's
-- row, test_coverage, unchanged (see version 1), and a second, eligible_coverage:
-- conformance coverage of the latest release's endpoints that endpoint_eligibility
-- calls eligible (the one rule), and how it would grow if the live tests joined CI as
-- conformance tests: the eligible endpoints they hit that no [Conformance] user agent
-- hits in the latest release's runs. test_coverage first.

CREATE OR REPLACE VIEW testing.projected_change_in_coverage AS
WITH baseline AS (
  SELECT count(*) AS total_endpoints,
         count(*) FILTER (WHERE tested) AS tested_endpoints
  FROM endpoint_coverage
  WHERE release = (SELECT latest_release())
), newly_hit AS (
  SELECT count(DISTINCT endpoint) AS endpoints
  FROM testing.endpoint_hit_by_new_test
  WHERE NOT hit_by_ete
), eligible AS (
  SELECT ec.endpoint, coalesce(ec.conf_tested, false) AS conf_tested
  FROM endpoint_coverage ec
  JOIN endpoint_eligibility e USING (release, endpoint)
  WHERE ec.release = (SELECT latest_release())
    AND e.eligible
), eligible_baseline AS (
  SELECT count(*) AS total_endpoints,
         count(*) FILTER (WHERE conf_tested) AS tested_endpoints
  FROM eligible
), eligible_newly_hit AS (
  SELECT count(DISTINCT h.endpoint) AS endpoints
  FROM testing.endpoint_hit_by_new_test h
  JOIN eligible e ON e.endpoint = h.endpoint AND NOT e.conf_tested
)
SELECT 'test_coverage'::text AS category,
       b.total_endpoints,
       b.tested_endpoints AS old_coverage,
       b.tested_endpoints + n.endpoints AS new_coverage,
       n.endpoints AS change_in_number
FROM baseline b, newly_hit n
UNION ALL
SELECT 'eligible_coverage'::text,
       b.total_endpoints,
       b.tested_endpoints,
       b.tested_endpoints + n.endpoints,
       n.endpoints
FROM eligible_baseline b, eligible_newly_hit n
ORDER BY category DESC;

COMMENT ON VIEW testing.projected_change_in_coverage IS
  'How many more endpoints of the latest release tests would hit if the live tests joined CI (test_coverage), and how many more eligible ones conformance tests would (eligible_coverage)';
COMMENT ON COLUMN testing.projected_change_in_coverage.category IS
  'test_coverage: non-deprecated endpoints hit by any test; eligible_coverage: endpoint_eligibility''s eligible endpoints hit by conformance tests';
COMMENT ON COLUMN testing.projected_change_in_coverage.total_endpoints IS
  '# of non-deprecated endpoints in the latest release (test_coverage), # of eligible ones (eligible_coverage)';
COMMENT ON COLUMN testing.projected_change_in_coverage.old_coverage IS
  '# of them hit by a test user agent (test_coverage), by a [Conformance] one (eligible_coverage), in the latest release''s runs';
