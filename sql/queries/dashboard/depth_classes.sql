-- The Depth page's totals: how many of one release's stable endpoints eligible for
-- conformance (endpoint_depth.eligible) that pass the filters are in each depth
-- class, full, partial, untested, then null (no data: the release has no events).
-- Parameters: %(release)s; %(group)s, %(kind)s and %(depth)s (as in depth.sql), null
-- for "any".
SELECT d.depth, count(*) AS endpoints
FROM endpoint_depth d
JOIN endpoint_coverage ec ON ec.release = d.release AND ec.endpoint = d.endpoint
WHERE d.release = %(release)s
  AND d.eligible
  AND (%(group)s::text IS NULL OR coalesce(nullif(ec."group", ''), 'core') = %(group)s)
  AND (%(kind)s::text IS NULL OR ec.kind = %(kind)s)
  AND (%(depth)s::text IS NULL OR d.depth = %(depth)s)
GROUP BY d.depth
ORDER BY array_position(ARRAY['full', 'partial', 'untested'], d.depth) NULLS LAST;
