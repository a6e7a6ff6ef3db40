-- The release gate (snoopdb/gate.py): a verdict on every endpoint that is new in a
-- release, i.e. in its spec and in no earlier loaded release's spec.
-- Parameters: %(release)s (X.Y.Z), %(pending)s (the pending endpoints, text[]),
-- %(min_share)s (null, or the share of runs, numeric).
--
-- "Tested" is snoopDB's rule in conformance.eligible_endpoint_coverage: the test
-- named in the user agent is a codename of conformance.test. Only the release's
-- own runs count: the gate asks whether this release's CI proves the endpoint.
-- With a min_share, only when a conformance test hit it in at least that share of
-- the release's runs (a test that reaches it on a retry or a race only does not
-- prove it); either way each endpoint says in how many runs one did.
--
-- Levels and eligibility are endpoint_eligibility's, the one rule every consumer
-- reads: an API group's discovery operation (GET /apis/<group>/, get<Group>APIGroup)
-- takes the level of the most stable version its group serves in the same release,
-- so it is new in the release in which that level first becomes stable (or, while
-- not stable, where it first appears). The pending list is the gate's own (the
-- release's published file, or --pending-file): an endpoint the relation calls
-- pending is eligible here, and waits only when that list names it.

WITH target AS (
  SELECT %(release)s::text AS release, release_key(%(release)s::text) AS sort_key,
         %(pending)s::text[] AS pending, %(min_share)s::numeric AS min_share
), classified AS (
  SELECT o.release, o.endpoint, o.method, o.path, e.level, e.reason,
         CASE WHEN o.path ~ '^/apis/[^/]+/$' THEN split_part(o.path, '/', 3) END AS api_group
  FROM open_api o
  JOIN endpoint_eligibility e USING (release, endpoint)
  JOIN release_order r ON r.release = o.release
  JOIN target t ON r.sort_key <= t.sort_key
), group_versions AS (
  -- what a discovery operation's verdict names: the versions its group serves
  SELECT api_group, array_agg(version ORDER BY version COLLATE "C") AS versions
  FROM (SELECT DISTINCT split_part(o.path, '/', 3) AS api_group,
                        split_part(o.path, '/', 4) AS version
        FROM open_api o
        JOIN target t ON o.release = t.release
        WHERE o.path ~ '^/apis/[^/]+/[^/]+/') AS group_version
  GROUP BY api_group
), earlier AS (
  SELECT c.endpoint, bool_or(c.level = 'stable') AS was_stable
  FROM classified c, target t
  WHERE c.release <> t.release
  GROUP BY c.endpoint
), new_endpoint AS (
  SELECT c.*
  FROM classified c
  JOIN target t ON c.release = t.release
  LEFT JOIN earlier e USING (endpoint)
  WHERE e.endpoint IS NULL
     OR (c.api_group IS NOT NULL AND c.level = 'stable' AND NOT e.was_stable)
), run_test_hit AS (
  -- '' is an e2e.test user agent that names no test: no codename, nothing to report.
  SELECT DISTINCT h.source, h.endpoint, h.test
  FROM endpoint_hit h
  JOIN target t ON h.release = t.release
  JOIN new_endpoint n USING (endpoint)
  WHERE h.test <> ''
), test_hit AS (
  SELECT DISTINCT endpoint, test FROM run_test_hit
), conformance_runs AS (
  SELECT rth.endpoint, count(DISTINCT rth.source) AS runs
  FROM run_test_hit rth
  JOIN conformance.test ct ON ct.codename = rth.test
  GROUP BY rth.endpoint
), release_runs AS (
  SELECT count(DISTINCT h.run) AS runs
  FROM release_run_hit h
  JOIN target t ON h.release = t.release
), hits AS (
  SELECT th.endpoint,
         coalesce(jsonb_agg(jsonb_build_array(ct.codename, ct.testname, ct.release)
                            ORDER BY r.sort_key, ct.codename COLLATE "C")
                    FILTER (WHERE ct.codename IS NOT NULL), '[]') AS conformance_tests,
         coalesce(array_agg(th.test ORDER BY th.test COLLATE "C") FILTER (WHERE ct.codename IS NULL),
                  '{}') AS other_tests
  FROM test_hit th
  LEFT JOIN conformance.test ct ON ct.codename = th.test
  LEFT JOIN release_order r ON r.release = ct.release
  GROUP BY th.endpoint
), judged AS (
  SELECT n.endpoint, n.method, n.path, n.level, n.api_group,
         CASE WHEN n.api_group IS NOT NULL THEN coalesce(gv.versions, '{}') ELSE '{}' END
           AS group_versions,
         i.reason AS ineligible_reason, i.link AS ineligible_link,
         n.endpoint = ANY (t.pending) AS pending,
         coalesce(h.conformance_tests, '[]') AS conformance_tests,
         coalesce(h.other_tests, '{}') AS other_tests,
         coalesce(cr.runs, 0) AS conformance_runs,
         rr.runs,
         CASE WHEN n.reason IN ('not stable', 'group discovery of a group with no stable version')
                THEN 'not stable'
              WHEN n.reason = 'deprecated' THEN 'deprecated'
              WHEN starts_with(n.reason, 'ineligible: ') THEN 'ineligible'
              WHEN h.conformance_tests <> '[]'
               AND (t.min_share IS NULL OR cr.runs >= t.min_share * rr.runs) THEN 'tested'
              WHEN n.endpoint = ANY (t.pending) THEN 'pending'
              ELSE 'untested' END AS verdict
  FROM new_endpoint n
  CROSS JOIN target t
  CROSS JOIN release_runs rr
  LEFT JOIN group_versions gv USING (api_group)
  -- the list's reason and link, as the verdict shows them
  LEFT JOIN conformance.ineligible_endpoint i USING (endpoint)
  LEFT JOIN hits h USING (endpoint)
  LEFT JOIN conformance_runs cr USING (endpoint)
)
SELECT endpoint, method, path, level, api_group, group_versions, ineligible_reason,
       ineligible_link, pending, conformance_tests, other_tests, conformance_runs, runs,
       verdict
FROM judged
ORDER BY array_position(ARRAY['untested', 'pending', 'tested', 'ineligible', 'deprecated',
                              'not stable'], verdict),
         endpoint COLLATE "C";
