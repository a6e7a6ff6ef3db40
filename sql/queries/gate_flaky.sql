-- The release gate's warning (snoopdb/commands/gate.py): every stable, eligible
-- endpoint of the release, new in it or not, that conformance tests hit in some of
-- the release's runs but not all — coverage one run calls tested and the next
-- untested. By the gate's own rules (gate.sql): a conformance test is a codename of
-- conformance.test, the runs are the release's own, eligible is endpoint_eligibility's
-- (pending endpoints included, as the gate judges them). The least often hit first.
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
JOIN endpoint_eligibility e USING (release, endpoint)
JOIN conformance_runs cr ON cr.endpoint = o.endpoint
CROSS JOIN release_runs rr
WHERE o.release = %(release)s
  AND (e.eligible OR e.reason = 'pending')
  AND cr.runs < rr.runs
ORDER BY cr.runs::numeric / rr.runs, o.endpoint COLLATE "C";
