-- Revision 0020 undone: the views that read endpoint_eligibility as versions 1 made
-- them (replaced in place: views read them), then the relation and the pending list.

CREATE OR REPLACE VIEW conformance.eligible_endpoint AS
SELECT o.endpoint
FROM open_api o
WHERE o.release = (SELECT latest_release())
  AND o.level = 'stable'
  AND NOT o.deprecated
  AND NOT EXISTS (SELECT FROM conformance.ineligible_endpoint i WHERE i.endpoint = o.endpoint)
ORDER BY o.endpoint;
COMMENT ON VIEW conformance.eligible_endpoint IS
  'Stable, non-deprecated endpoints of the latest release that are not in conformance.ineligible_endpoint';

CREATE OR REPLACE VIEW conformance.stable_coverage AS
WITH release_runs AS (
  SELECT release, count(*) AS runs
  FROM audit_run
  WHERE state <> 'loading'
  GROUP BY release
), conformance_runs AS (
  SELECT release, endpoint, count(*) FILTER (WHERE conf_tested) AS runs
  FROM release_run_hit
  GROUP BY release, endpoint
), setting AS (
  SELECT min_share_setting() AS share
)
SELECT o.release,
       o.endpoint,
       rr.runs,
       coalesce(c.runs, 0) AS runs_conf_hit,
       round(coalesce(c.runs, 0)::numeric / rr.runs, 4) AS conf_tested_share,
       coalesce(c.runs, 0) >= s.share * rr.runs AS conf_tested
FROM open_api o
JOIN release_runs rr ON rr.release = o.release
CROSS JOIN setting s
LEFT JOIN conformance_runs c ON c.release = o.release AND c.endpoint = o.endpoint
WHERE o.level = 'stable'
  AND NOT o.deprecated
  AND NOT EXISTS (SELECT FROM conformance.ineligible_endpoint i WHERE i.endpoint = o.endpoint);
COMMENT ON COLUMN conformance.stable_coverage.endpoint IS 'The eligible endpoint (stable, not deprecated, not ineligible)';

CREATE OR REPLACE VIEW testing.untested_stable_endpoint AS
SELECT ec.release,
       ec.endpoint,
       ec.level,
       ec.category,
       ec.path,
       ec.description,
       ec.kind,
       ec.version,
       ec."group",
       ec.action,
       ec.tested,
       ec.conf_tested,
       ec.tests,
       EXISTS (SELECT FROM conformance.eligible_endpoint e WHERE e.endpoint = ec.endpoint) AS eligible
FROM endpoint_coverage ec
WHERE ec.release = (SELECT latest_release())
  AND ec.level = 'stable'
  AND NOT ec.tested
ORDER BY ec.endpoint DESC;
COMMENT ON COLUMN testing.untested_stable_endpoint.level IS 'Always stable';
COMMENT ON COLUMN testing.untested_stable_endpoint.eligible IS 'Listed in conformance.eligible_endpoint';

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

DROP VIEW endpoint_eligibility;
DROP TABLE conformance.pending_eligible_endpoint;
