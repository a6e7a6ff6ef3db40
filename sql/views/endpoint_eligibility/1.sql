-- The one eligibility rule (issue 33): per release and endpoint of its spec, the level
-- it is judged at, whether conformance tests must cover it, and if not, why. The gate,
-- the coverage views, the dashboard, the export, the ticket and presubmit read it.
--
-- level: open_api.level (alpha or beta when the path says so, else stable), except for
-- an API group's versionless discovery operation (GET /apis/<group>/,
-- get<Group>APIGroup): its path names no version, so it takes the level of the most
-- stable version its group serves in the same release's spec (apisnoop#1035), and
-- keeps the path's when the spec serves no version of the group.
--
-- reason, null when eligible, else the first that applies, in this order:
--   'not stable'           the path says alpha or beta (open_api.level)
--   'deprecated'           the description says deprecated (open_api.deprecated)
--   'ineligible: <reason>' on conformance.ineligible_endpoint, with the list's reason
--                          ('ineligible: no reason given' when it has none)
--   'group discovery of a group with no stable version'
--                          a discovery operation whose group serves only alpha or
--                          beta versions (level says which)
--   'pending'              on conformance.pending_eligible_endpoint: eligible, allowed
--                          to wait for a test
-- apisnoop's rule before #1035, which its published files follow, is therefore
-- `eligible OR reason IN ('pending', 'group discovery of a group with no stable
-- version')`: stable by the path, not deprecated, not ineligible.
--
-- The two lists are the ones of the release loaded last, applied to every release's
-- spec (as conformance.ineligible_endpoint always was).

CREATE VIEW endpoint_eligibility AS
WITH group_level AS (
  SELECT release, split_part(path, '/', 3) AS api_group,
         CASE WHEN bool_or(split_part(path, '/', 4) !~ 'alpha|beta') THEN 'stable'
              WHEN bool_or(split_part(path, '/', 4) ~ 'beta') THEN 'beta'
              ELSE 'alpha' END AS level
  FROM open_api
  WHERE path ~ '^/apis/[^/]+/[^/]+/'
  GROUP BY release, split_part(path, '/', 3)
), judged AS (
  SELECT o.release, o.endpoint, o.deprecated,
         o.level AS path_level,
         coalesce(g.level, o.level) AS level,
         CASE WHEN o.level <> 'stable' THEN 'not stable'
              WHEN o.deprecated THEN 'deprecated'
              WHEN i.endpoint IS NOT NULL
                THEN 'ineligible: ' || coalesce(nullif(btrim(i.reason), ''), 'no reason given')
              WHEN coalesce(g.level, o.level) <> 'stable'
                THEN 'group discovery of a group with no stable version'
              WHEN p.endpoint IS NOT NULL THEN 'pending' END AS reason
  FROM open_api o
  LEFT JOIN group_level g
    ON o.path ~ '^/apis/[^/]+/$' AND g.release = o.release
   AND g.api_group = split_part(o.path, '/', 3)
  LEFT JOIN conformance.ineligible_endpoint i ON i.endpoint = o.endpoint
  LEFT JOIN conformance.pending_eligible_endpoint p ON p.endpoint = o.endpoint
)
SELECT release, endpoint, level, reason IS NULL AS eligible, reason
FROM judged;

COMMENT ON VIEW endpoint_eligibility IS
  'Per release and endpoint of its spec: its level (a group''s discovery operation takes its group''s most stable version''s), whether conformance tests must cover it, and why not';
COMMENT ON COLUMN endpoint_eligibility.release IS 'The release, X.Y.Z';
COMMENT ON COLUMN endpoint_eligibility.endpoint IS 'The operationId, as in open_api';
COMMENT ON COLUMN endpoint_eligibility.level IS
  'alpha, beta or stable: the path''s, or for GET /apis/<group>/ that of the most stable version the group serves in the release';
COMMENT ON COLUMN endpoint_eligibility.eligible IS 'Conformance tests must cover it: reason is null';
COMMENT ON COLUMN endpoint_eligibility.reason IS
  'Null when eligible, else the first of: not stable; deprecated; ineligible: <the list''s reason>; group discovery of a group with no stable version; pending';
