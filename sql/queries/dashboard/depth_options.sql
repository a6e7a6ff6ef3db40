-- The choices of the Depth page's filters: the API groups (`core` for the legacy
-- group) and the kinds of one release's stable endpoints eligible for conformance
-- (endpoint_depth.eligible); the kinds only of %(group)s when one is chosen (null:
-- any). Parameters: %(release)s, %(group)s.
WITH chosen AS (
  SELECT coalesce(nullif(ec."group", ''), 'core') AS "group", ec.kind
  FROM endpoint_depth d
  JOIN endpoint_coverage ec ON ec.release = d.release AND ec.endpoint = d.endpoint
  WHERE d.release = %(release)s AND d.eligible
)
SELECT coalesce((SELECT array_agg(DISTINCT "group" COLLATE "C") FROM chosen), '{}') AS "group",
       coalesce((SELECT array_agg(DISTINCT kind COLLATE "C") FROM chosen
                 WHERE kind IS NOT NULL
                   AND (%(group)s::text IS NULL OR "group" = %(group)s)), '{}') AS kind;
