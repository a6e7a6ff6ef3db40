-- snoopDB's testing.projected_change_in_coverage: how the latest release's test
-- coverage would grow if the live tests joined CI. snoopDB counts live endpoints
-- not tested in *any* release (and counts null, unmapped events as one endpoint);
-- here the new endpoints are exactly those testing.endpoint_hit_by_new_test shows
-- with hit_by_ete false, so new_coverage is a count of latest-release endpoints.

CREATE VIEW testing.projected_change_in_coverage AS
WITH baseline AS (
  SELECT count(*) AS total_endpoints,
         count(*) FILTER (WHERE tested) AS tested_endpoints
  FROM endpoint_coverage
  WHERE release = (SELECT latest_release())
), newly_hit AS (
  SELECT count(DISTINCT endpoint) AS endpoints
  FROM testing.endpoint_hit_by_new_test
  WHERE NOT hit_by_ete
)
SELECT 'test_coverage'::text AS category,
       b.total_endpoints,
       b.tested_endpoints AS old_coverage,
       b.tested_endpoints + n.endpoints AS new_coverage,
       n.endpoints AS change_in_number
FROM baseline b, newly_hit n;

COMMENT ON VIEW testing.projected_change_in_coverage IS
  'How many more endpoints of the latest release tests would hit if the live tests joined CI';
COMMENT ON COLUMN testing.projected_change_in_coverage.category IS 'Always test_coverage';
COMMENT ON COLUMN testing.projected_change_in_coverage.total_endpoints IS '# of non-deprecated endpoints in the latest release';
COMMENT ON COLUMN testing.projected_change_in_coverage.old_coverage IS '# of them hit by a test user agent in the latest release''s runs';
COMMENT ON COLUMN testing.projected_change_in_coverage.new_coverage IS '# hit by those or by a live user agent';
COMMENT ON COLUMN testing.projected_change_in_coverage.change_in_number IS 'new_coverage - old_coverage: endpoints only the live tests hit';
