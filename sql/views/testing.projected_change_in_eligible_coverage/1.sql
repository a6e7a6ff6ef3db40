-- testing.projected_change_in_coverage for conformance (revision 0020): the latest
-- release's endpoints that endpoint_eligibility calls eligible (the one rule), how many
-- a [Conformance] user agent hits in its runs, and how many more would be if the live
-- tests joined CI as conformance tests: the eligible endpoints they hit that no
-- conformance test hits. Counted as testing.projected_change_in_coverage counts test
-- coverage (its one row, snoopDB's, stays as apisnoop's seed queries read it).

CREATE VIEW testing.projected_change_in_eligible_coverage AS
WITH eligible AS (
  SELECT ec.endpoint, coalesce(ec.conf_tested, false) AS conf_tested
  FROM endpoint_coverage ec
  JOIN endpoint_eligibility e USING (release, endpoint)
  WHERE ec.release = (SELECT latest_release())
    AND e.eligible
), baseline AS (
  SELECT count(*) AS total_endpoints,
         count(*) FILTER (WHERE conf_tested) AS tested_endpoints
  FROM eligible
), newly_hit AS (
  SELECT count(DISTINCT h.endpoint) AS endpoints
  FROM testing.endpoint_hit_by_new_test h
  JOIN eligible e ON e.endpoint = h.endpoint AND NOT e.conf_tested
)
SELECT 'eligible_coverage'::text AS category,
       b.total_endpoints,
       b.tested_endpoints AS old_coverage,
       b.tested_endpoints + n.endpoints AS new_coverage,
       n.endpoints AS change_in_number
FROM baseline b, newly_hit n;

COMMENT ON VIEW testing.projected_change_in_eligible_coverage IS
  'How many more eligible endpoints (endpoint_eligibility) of the latest release conformance tests would hit if the live tests joined CI as conformance tests';
COMMENT ON COLUMN testing.projected_change_in_eligible_coverage.category IS 'Always eligible_coverage';
COMMENT ON COLUMN testing.projected_change_in_eligible_coverage.total_endpoints IS
  '# of endpoints of the latest release endpoint_eligibility calls eligible';
COMMENT ON COLUMN testing.projected_change_in_eligible_coverage.old_coverage IS
  '# of them hit by a [Conformance] user agent in the latest release''s runs';
COMMENT ON COLUMN testing.projected_change_in_eligible_coverage.new_coverage IS
  '# hit by those or by a live user agent';
COMMENT ON COLUMN testing.projected_change_in_eligible_coverage.change_in_number IS
  'new_coverage - old_coverage: eligible endpoints only the live tests hit';
