-- An endpoint's page, its depth panel: its endpoint_depth row in every release it
-- exists in, oldest first (depth and the counts of what tests exercised null where
-- the release has no events), with how many status codes its spec declares there
-- (codes_declared) and how many of those conformance tests saw (codes_declared_seen),
-- from endpoint_status_coverage (null: no events). Parameter: %(endpoint)s.
SELECT d.*,
       c.declared AS codes_declared,
       c.declared_seen AS codes_declared_seen
FROM endpoint_depth d
JOIN release_order r ON r.release = d.release
LEFT JOIN LATERAL (
  SELECT count(*) FILTER (WHERE s.declared) AS declared,
         count(*) FILTER (WHERE s.declared AND s.conf_hits > 0) AS declared_seen
  FROM endpoint_status_coverage s
  WHERE s.release = d.release AND s.endpoint = d.endpoint
  HAVING d.depth IS NOT NULL
) c ON true
WHERE d.endpoint = %(endpoint)s
ORDER BY r.sort_key;
