-- Why endpoints are not eligible for conformance: endpoint_eligibility's reason (the
-- one rule every consumer reads; 'not stable' with the level), judged in %(release)s,
-- the endpoint table's release, or, where that is null (an endpoint's page), in the
-- latest release (latest_release()), which the endpoint may not be in. The endpoint
-- table's eligible column and an endpoint's page say it rather than leave a blank.
-- Parameters: %(release)s, the release whose endpoints (null: any), and %(endpoint)s,
-- one endpoint (null: all).
WITH judged_in AS (
  SELECT coalesce(%(release)s::text, latest_release()) AS release
)
SELECT e.endpoint,
       CASE WHEN l.endpoint IS NULL THEN 'not in ' || j.release || ', the latest release'
            WHEN l.reason = 'not stable' THEN 'not stable (' || l.level || ')'
            ELSE l.reason END AS why
FROM (SELECT DISTINCT o.endpoint
      FROM open_api o
      WHERE (%(release)s::text IS NULL OR o.release = %(release)s)
        AND (%(endpoint)s::text IS NULL OR o.endpoint = %(endpoint)s)) AS e
CROSS JOIN judged_in j
LEFT JOIN endpoint_eligibility l ON l.release = j.release AND l.endpoint = e.endpoint
WHERE l.endpoint IS NULL OR NOT l.eligible;
