-- `snoopdb presubmit` (snoopdb/commands/presubmit.py): every operation of one spec
-- with its level and, when it is not conformance-eligible, why. The spec is a loaded
-- release's, or a pull request's (or its base's) stored as a pseudo-release in
-- presubmit's own transaction, which is rolled back: no other session ever sees it.
-- Parameters: %(release)s (open_api.release), %(ineligible)s and %(reasons)s (the
-- ineligible list's endpoints and their reasons, text[] of one length), %(pending)s
-- (the pending list, text[]).
--
-- The rule, first reason that applies: a versionless group discovery operation
-- (GET /apis/<group>/) takes the level of the most stable version its group serves
-- in the same spec (apisnoop#1035) and, below stable, is 'group discovery of a group
-- with no stable version'; else 'not stable' (alpha or beta), 'deprecated',
-- 'ineligible: <the list's reason>', 'pending'; eligible (null) otherwise.

WITH listed AS (
  SELECT * FROM unnest(%(ineligible)s::text[], %(reasons)s::text[]) AS l(endpoint, reason)
), operation AS (
  SELECT o.endpoint, o.method, o.path, o.level, o.deprecated,
         CASE WHEN o.path ~ '^/apis/[^/]+/$' THEN split_part(o.path, '/', 3) END AS api_group
  FROM open_api o
  WHERE o.release = %(release)s
), group_level AS (
  SELECT api_group,
         CASE WHEN bool_or(version !~ 'alpha|beta') THEN 'stable'
              WHEN bool_or(version ~ 'beta') THEN 'beta'
              ELSE 'alpha' END AS level
  FROM (SELECT DISTINCT split_part(path, '/', 3) AS api_group,
                        split_part(path, '/', 4) AS version
        FROM operation
        WHERE path ~ '^/apis/[^/]+/[^/]+/') AS group_version
  GROUP BY api_group
)
SELECT o.endpoint, o.method, o.path, coalesce(g.level, o.level) AS level,
       CASE WHEN o.api_group IS NOT NULL AND g.level IS DISTINCT FROM 'stable'
              THEN 'group discovery of a group with no stable version'
            WHEN o.level <> 'stable' THEN 'not stable'
            WHEN o.deprecated THEN 'deprecated'
            WHEN l.endpoint IS NOT NULL THEN 'ineligible: ' || l.reason
            WHEN o.endpoint = ANY (%(pending)s::text[]) THEN 'pending'
       END AS reason
FROM operation o
LEFT JOIN group_level g USING (api_group)
LEFT JOIN listed l USING (endpoint)
ORDER BY o.endpoint COLLATE "C";
