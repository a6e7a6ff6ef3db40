-- snoopDB's conformance.coverage_per_release: eligible endpoints grouped by the
-- release they first appeared in, tested or not today, with running totals. The
-- column names with spaces are snoopDB's (the keys of
-- conformance-coverage-per-release.json).
-- Version 2: "tested today" is the newest release's coverage
-- (conformance.eligible_endpoint_coverage, version 2), as apisnoop publishes it;
-- where no release has coverage data at all, the tested counts are null (no data).
-- Rows in release order (1.9.0 before 1.10.0).

CREATE VIEW conformance.coverage_per_release AS
WITH endpoint_per_release AS (
  SELECT o.release, o.endpoint
  FROM open_api o
  JOIN conformance.eligible_endpoint USING (endpoint)
), counts AS (
  SELECT epr.release,
         count(*) FILTER (WHERE epr.release = c.first_release) AS new_endpoints,
         count(*) FILTER (WHERE epr.release = c.first_release
                            AND c.first_conformance_test IS NOT NULL) AS tested,
         count(*) FILTER (WHERE epr.release = c.first_release
                            AND c.first_conformance_test IS NULL) AS untested
  FROM endpoint_per_release epr
  LEFT JOIN conformance.eligible_endpoint_coverage c USING (endpoint)
  GROUP BY epr.release
), has_data AS (
  SELECT coverage_release() IS NOT NULL AS known
)
SELECT c.release,
       c.new_endpoints AS "new endpoints",
       CASE WHEN d.known THEN c.tested END AS tested,
       CASE WHEN d.known THEN c.untested END AS untested,
       CASE WHEN d.known THEN sum(c.tested) OVER so_far::bigint END AS "total tested",
       CASE WHEN d.known THEN sum(c.untested) OVER so_far::bigint END AS "total untested",
       sum(c.new_endpoints) OVER so_far::bigint AS "total endpoints"
FROM counts c, has_data d
WINDOW so_far AS (ORDER BY release_key(c.release))
ORDER BY release_key(c.release);

COMMENT ON VIEW conformance.coverage_per_release IS
  'Per release, # of eligible endpoints first appearing in it that are tested today, with running totals';
COMMENT ON COLUMN conformance.coverage_per_release.release IS 'The release, X.Y.Z';
COMMENT ON COLUMN conformance.coverage_per_release."new endpoints" IS '# of eligible endpoints that first appear in this release';
COMMENT ON COLUMN conformance.coverage_per_release.tested IS
  '# of those hit by a conformance test in the newest release''s coverage (null: no coverage data)';
COMMENT ON COLUMN conformance.coverage_per_release.untested IS
  '# of those hit by no conformance test in the newest release''s coverage (null: no coverage data)';
COMMENT ON COLUMN conformance.coverage_per_release."total tested" IS
  '# of tested endpoints from this release and earlier (higher than conformance.progress: counts tests promoted later)';
COMMENT ON COLUMN conformance.coverage_per_release."total untested" IS '# of untested endpoints from this release and earlier';
COMMENT ON COLUMN conformance.coverage_per_release."total endpoints" IS '# of eligible endpoints from this release and earlier';
