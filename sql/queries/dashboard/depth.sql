-- The Depth page: one release's stable endpoints eligible for conformance, each with
-- what its conformance tests leave out, the most first: its declared query parameters
-- (`pretty` aside: it only indents the response) no conformance test passed, then its
-- declared status codes no conformance test saw, then its name. `depth` is the
-- endpoint's endpoint_depth class; it and the counts are null where the release has
-- no events (no data: its parameters and codes may be exercised or not).
-- `group` is the API group as people say it: `core` for the legacy group ('').
-- Parameters: %(release)s; %(group)s and %(kind)s, each null for "any".
WITH chosen AS (
  SELECT ec.endpoint,
         coalesce(nullif(ec."group", ''), 'core') AS "group",
         ec.kind,
         ec.path,
         ec.conf_tested
  FROM endpoint_coverage ec
  WHERE ec.release = %(release)s
    AND ec.level = 'stable'
    AND EXISTS (SELECT FROM conformance.eligible_endpoint e WHERE e.endpoint = ec.endpoint)
    AND (%(group)s::text IS NULL OR coalesce(nullif(ec."group", ''), 'core') = %(group)s)
    AND (%(kind)s::text IS NULL OR ec.kind = %(kind)s)
), params AS (
  SELECT p.endpoint,
         count(*) AS declared,
         count(*) FILTER (WHERE p.conf_hits > 0) AS conf_hit,
         coalesce(array_agg(p.parameter ORDER BY p.parameter COLLATE "C")
                  FILTER (WHERE coalesce(p.conf_hits, 0) = 0), '{}') AS left_out
  FROM endpoint_parameter_coverage p
  WHERE p.release = %(release)s AND p.location IS NOT NULL AND p.parameter <> 'pretty'
    AND p.endpoint IN (SELECT endpoint FROM chosen)
  GROUP BY p.endpoint
), codes AS (
  SELECT s.endpoint,
         count(*) FILTER (WHERE s.declared) AS declared,
         count(*) FILTER (WHERE s.declared AND s.conf_hits > 0) AS conf_seen,
         coalesce(array_agg(s.code ORDER BY s.code)
                  FILTER (WHERE s.declared AND coalesce(s.conf_hits, 0) = 0), '{}') AS left_out,
         coalesce(array_agg(s.code ORDER BY s.code)
                  FILTER (WHERE NOT s.declared AND s.conf_hits > 0), '{}') AS undeclared_seen
  FROM endpoint_status_coverage s
  WHERE s.release = %(release)s AND s.endpoint IN (SELECT endpoint FROM chosen)
  GROUP BY s.endpoint
), known AS (
  SELECT EXISTS (SELECT FROM endpoint_depth d
                 WHERE d.release = %(release)s AND d.depth IS NOT NULL) AS known
)
SELECT c.endpoint,
       c."group",
       c.kind,
       c.path,
       d.depth,
       CASE WHEN k.known THEN coalesce(p.declared, 0) END AS params_declared,
       CASE WHEN k.known THEN coalesce(p.conf_hit, 0) END AS params_conf_hit,
       CASE WHEN k.known THEN coalesce(p.left_out, '{}') END AS params_left_out,
       CASE WHEN k.known THEN coalesce(s.declared, 0) END AS codes_declared,
       CASE WHEN k.known THEN coalesce(s.conf_seen, 0) END AS codes_conf_seen,
       CASE WHEN k.known THEN coalesce(s.left_out, '{}') END AS codes_left_out,
       CASE WHEN k.known THEN coalesce(s.undeclared_seen, '{}') END AS codes_undeclared_seen
FROM chosen c
CROSS JOIN known k
LEFT JOIN endpoint_depth d ON d.release = %(release)s AND d.endpoint = c.endpoint
LEFT JOIN params p ON p.endpoint = c.endpoint
LEFT JOIN codes s ON s.endpoint = c.endpoint
ORDER BY cardinality(p.left_out) DESC NULLS LAST, cardinality(s.left_out) DESC NULLS LAST,
         c.endpoint COLLATE "C";
