-- The release gate's warning (snoopdb/commands/gate.py): every stable, eligible
-- endpoint of the release, new in it or not, that conformance tests hit in some of
-- the release's runs but not all — coverage one run calls tested and the next
-- untested. By the gate's own rules (gate.sql): a conformance test is a codename of
-- conformance.test, the runs are the release's own, eligible is not deprecated and
-- not in conformance.ineligible_endpoint. The least often hit first.
-- Parameter: %(release)s, X.Y.Z.

WITH release_runs AS (
  SELECT count(DISTINCT h.run) AS runs
  FROM release_run_hit h
  WHERE h.release = %(release)s
), conformance_runs AS (
  SELECT h.endpoint, count(DISTINCT h.source) AS runs
  FROM endpoint_hit h
  JOIN conformance.test ct ON ct.codename = h.test
  WHERE h.release = %(release)s
  GROUP BY h.endpoint
)
SELECT o.endpoint, o.method, o.path, cr.runs AS conformance_runs, rr.runs
FROM open_api o
JOIN conformance_runs cr ON cr.endpoint = o.endpoint
CROSS JOIN release_runs rr
WHERE o.release = %(release)s
  AND o.level = 'stable'
  AND NOT o.deprecated
  AND NOT EXISTS (SELECT FROM conformance.ineligible_endpoint i WHERE i.endpoint = o.endpoint)
  AND cr.runs < rr.runs
ORDER BY cr.runs::numeric / rr.runs, o.endpoint COLLATE "C";
