-- The Depth page: one release's stable endpoints eligible for conformance (as
-- endpoint_depth decides it in that release), each with what its conformance tests
-- leave out, the most first: its declared query parameters (`pretty` aside: it only
-- indents the response) no conformance test passed, then its declared status codes
-- no conformance test saw, then its name. The conformance-tested come first: of an
-- untested endpoint (the Endpoints page's business) everything is left out, and its
-- many parameters would bury the partly tested ones. depth and the counts come from
-- endpoint_depth: null where the release has no events (no data: its parameters and
-- codes may be exercised or not); the lists are then null too. codes_conf_seen
-- (endpoint_depth's) counts every code conformance tests saw, declared or not;
-- codes_declared_seen the declared ones only, of codes_declared.
-- `group` is the API group as people say it: `core` for the legacy group ('').
-- Parameters: %(release)s; %(group)s, %(kind)s and %(depth)s (full, partial or
-- untested), each null for "any".
WITH chosen AS (
  SELECT d.endpoint,
         coalesce(nullif(ec."group", ''), 'core') AS "group",
         ec.kind,
         ec.path,
         d.depth,
         d.params_declared,
         d.params_conf_hit,
         d.codes_conf_seen,
         d.error_codes_conf_seen,
         d.fields_declared,
         d.fields_conf_set
  FROM endpoint_depth d
  JOIN endpoint_coverage ec ON ec.release = d.release AND ec.endpoint = d.endpoint
  WHERE d.release = %(release)s
    AND d.eligible
    AND (%(group)s::text IS NULL OR coalesce(nullif(ec."group", ''), 'core') = %(group)s)
    AND (%(kind)s::text IS NULL OR ec.kind = %(kind)s)
    AND (%(depth)s::text IS NULL OR d.depth = %(depth)s)
), params AS (
  SELECT p.endpoint,
         array_agg(p.parameter ORDER BY p.parameter COLLATE "C") AS left_out
  FROM endpoint_parameter_coverage p
  WHERE p.release = %(release)s AND p.location IS NOT NULL AND p.parameter <> 'pretty'
    AND p.conf_hits = 0 AND p.endpoint IN (SELECT endpoint FROM chosen)
  GROUP BY p.endpoint
), codes AS (
  SELECT s.endpoint,
         count(*) FILTER (WHERE s.declared) AS declared,
         count(*) FILTER (WHERE s.declared AND s.conf_hits > 0) AS declared_seen,
         coalesce(array_agg(s.code ORDER BY s.code)
                  FILTER (WHERE s.declared AND s.conf_hits = 0), '{}') AS left_out,
         coalesce(array_agg(s.code ORDER BY s.code)
                  FILTER (WHERE NOT s.declared AND s.conf_hits > 0), '{}') AS undeclared_seen
  FROM endpoint_status_coverage s
  WHERE s.release = %(release)s AND s.endpoint IN (SELECT endpoint FROM chosen)
  GROUP BY s.endpoint
)
SELECT c.endpoint,
       c."group",
       c.kind,
       c.path,
       c.depth,
       c.params_declared,
       c.params_conf_hit,
       CASE WHEN c.depth IS NOT NULL THEN coalesce(p.left_out, '{}') END AS params_left_out,
       CASE WHEN c.depth IS NOT NULL THEN coalesce(s.declared, 0) END AS codes_declared,
       CASE WHEN c.depth IS NOT NULL THEN coalesce(s.declared_seen, 0) END
         AS codes_declared_seen,
       c.codes_conf_seen,
       CASE WHEN c.depth IS NOT NULL THEN coalesce(s.left_out, '{}') END AS codes_left_out,
       CASE WHEN c.depth IS NOT NULL THEN coalesce(s.undeclared_seen, '{}') END
         AS codes_undeclared_seen,
       c.fields_declared,
       c.fields_conf_set
FROM chosen c
LEFT JOIN params p ON p.endpoint = c.endpoint
LEFT JOIN codes s ON s.endpoint = c.endpoint
ORDER BY c.depth = 'untested',
         coalesce(cardinality(p.left_out), 0) DESC,
         coalesce(cardinality(s.left_out), 0) DESC,
         c.endpoint COLLATE "C";
