-- The endpoint table: one release's endpoint_coverage, filtered, with the untested
-- endpoints eligible for conformance first (where to write the next conformance
-- test: testing.untested_stable_endpoint's eligible rows, counted in the dashboard's
-- default release, the newest with coverage data), then by level (stable first) and
-- name. Eligible is endpoint_eligibility's, in the table's release.
-- state: conformance (hit by a [Conformance] user agent), tested (by a test only),
-- untested, or null where the release has no coverage data (unknown); these are
-- the sunburst's colours.
-- Parameters: %(release)s; %(default_release)s, the release whose untested endpoints
-- come first; and %(category)s, %(kind)s, %(level)s, %(state)s, %(q)s, each null for
-- "any"; q is a case-insensitive substring of the endpoint's name, path or description.

WITH filtered AS (
  SELECT ec.*,
         CASE WHEN ec.conf_tested THEN 'conformance'
              WHEN ec.tested THEN 'tested'
              WHEN NOT ec.tested THEN 'untested' END AS state
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
       f.eligible,
       coalesce(f.release = %(default_release)s AND NOT f.tested AND f.eligible, false)
         AS untested_stable_eligible,
       -- unknown, not 0, where the release has no coverage data
       CASE WHEN f.tested IS NOT NULL THEN cardinality(f.tests) END AS tests
FROM (SELECT filtered.*, e.eligible
      FROM filtered
      JOIN endpoint_eligibility e USING (release, endpoint)) AS f
WHERE %(state)s::text IS NULL OR f.state = %(state)s
ORDER BY untested_stable_eligible DESC, f.level DESC, f.endpoint COLLATE "C";
