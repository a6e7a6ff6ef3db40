-- The endpoint table: one release's endpoint_coverage, filtered, with the endpoints
-- testing.untested_stable_endpoint lists as eligible first (where to write the next
-- conformance test), then by level (stable first) and name.
-- state: conformance (hit by a [Conformance] user agent), tested (by a test only)
-- or untested; these are the sunburst's colours.
-- Parameters: %(release)s, and %(category)s, %(kind)s, %(level)s, %(state)s, %(q)s,
-- each null for "any"; q is a case-insensitive substring of the endpoint's name,
-- path or description.

WITH filtered AS (
  SELECT ec.*,
         CASE WHEN ec.conf_tested THEN 'conformance'
              WHEN ec.tested THEN 'tested'
              ELSE 'untested' END AS state
  FROM endpoint_coverage ec
  WHERE ec.release = %(release)s
    AND (%(category)s::text IS NULL OR ec.category = %(category)s)
    AND (%(kind)s::text IS NULL OR ec.kind = %(kind)s)
    AND (%(level)s::text IS NULL OR ec.level = %(level)s)
    AND (%(q)s::text IS NULL
         OR strpos(lower(ec.endpoint), lower(%(q)s)) > 0
         OR strpos(lower(ec.path), lower(%(q)s)) > 0
         OR strpos(lower(coalesce(ec.description, '')), lower(%(q)s)) > 0)
)
SELECT f.endpoint,
       f.level,
       f.category,
       f.kind,
       f.path,
       f.state,
       f.tested,
       f.conf_tested,
       EXISTS (SELECT FROM conformance.eligible_endpoint e WHERE e.endpoint = f.endpoint) AS eligible,
       coalesce(u.eligible, false) AS untested_stable_eligible,
       cardinality(f.tests) AS tests
FROM filtered f
LEFT JOIN testing.untested_stable_endpoint u ON u.release = f.release AND u.endpoint = f.endpoint
WHERE %(state)s::text IS NULL OR f.state = %(state)s
ORDER BY untested_stable_eligible DESC, f.level DESC, f.endpoint COLLATE "C";
