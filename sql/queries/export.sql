-- `snoopdb export` (snoopdb/commands/export.py): the files the apisnoop web app reads, in
-- the shapes apisnoop publishes under resources/coverage/. One statement, so every
-- file comes from the same snapshot of the database; one column per file, each a
-- JSON document built from the views (the untested list is a text array).
-- conformance-progress.json comes from progress_totals.sql, in the same snapshot.
-- Parameter: %(release)s, X.Y.Z (export.py asks export_release.sql for the latest
-- loaded release when none is named; null when no spec is loaded): the release of
-- <release>.json and of the untested list (apisnoop exports the latest release).
--
-- Text sorts in byte order (COLLATE "C") so that the files do not depend on the
-- database's locale.
--
-- Where apisnoop's queries leave nulls in arrays (`tests: [null]` for an untested
-- endpoint, a trailing null in conformance-endpoints.json's tests) the arrays here
-- hold only real entries.
--
-- A release without coverage data (release_coverage 'no data': no run, no published
-- file) is unknown, not untested: <release>.json says so in `coverage`, its tested
-- flags and `tested endpoints` are null, and export.py writes no untested list.

WITH target AS (
  SELECT t.release, rc.coverage AS source
  FROM (SELECT %(release)s::text AS release) AS t
  LEFT JOIN release_coverage rc ON rc.release = t.release
), coverage AS (
  SELECT ec.*
  FROM endpoint_coverage ec
  JOIN target t ON ec.release = t.release
), per_release AS (
  SELECT cpr.*
  FROM conformance.coverage_per_release cpr
  JOIN target t ON cpr.release = t.release
), conformance_hit AS (
  -- the conformance tests that hit the endpoint in the newest release's coverage
  -- (endpoint_test_hit), as apisnoop's published file lists them
  SELECT h.endpoint,
         json_agg(json_build_object('testname', ct.testname, 'codename', ct.codename,
                                    'file', ct.file, 'release', ct.release)
                  ORDER BY ct.codename COLLATE "C") AS tests
  FROM conformance.test ct
  JOIN endpoint_test_hit h ON h.test = ct.codename
  GROUP BY h.endpoint
)
SELECT
  (SELECT release FROM target) AS release,
  EXISTS (SELECT FROM open_api o JOIN target t ON o.release = t.release) AS has_spec,
  (SELECT source FROM target) AS coverage_source,

  -- <release>.json
  (SELECT json_build_object(
     'release', t.release,
     'release_date', (SELECT min(o.release_date) FROM open_api o WHERE o.release = t.release),
     'spec', (SELECT min(o.spec) FROM open_api o WHERE o.release = t.release),
     'coverage', t.source,
     'sources', ARRAY(SELECT DISTINCT h.source COLLATE "C" FROM endpoint_hit h
                      WHERE h.release = t.release ORDER BY 1),
     'endpoints', coalesce((SELECT json_agg(json_build_object(
                              'release', c.release, 'endpoint', c.endpoint, 'level', c.level,
                              'category', c.category, 'path', c.path,
                              'description', c.description, 'kind', c.kind,
                              'version', c.version, 'group', c."group", 'action', c.action,
                              'tested', c.tested, 'conf_tested', c.conf_tested,
                              'tests', c.tests)
                            ORDER BY c.level DESC, c.endpoint COLLATE "C")
                            FROM coverage c), '[]'),
     'tests', coalesce((SELECT json_agg(json_build_object(
                          'release', aet.release, 'test', aet.test,
                          'conformance_test', aet.conformance_test, 'testname', aet.testname,
                          'file', aet.file, 'promotion_release', aet.promotion_release)
                        ORDER BY aet.test COLLATE "C")
                        FROM audit_event_test aet WHERE aet.release = t.release), '[]'),
     'total endpoints', (SELECT count(*) FROM coverage),
     -- count(tested) counts the known flags: none in a release without data
     'tested endpoints', (SELECT CASE WHEN count(tested) > 0 THEN count(*) FILTER (WHERE tested)
                                 END FROM coverage),
     'total conformance eligible endpoints', (SELECT "total endpoints" FROM per_release),
     'tested conformance eligible endpoints', (SELECT "total tested" FROM per_release),
     'new conformance eligible endpoints', (SELECT "new endpoints" FROM per_release),
     'new tested conformance eligible endpoints', (SELECT tested FROM per_release))
   FROM target t) AS release_coverage,

  -- conformance-coverage-per-release.json: the view's rows as they are.
  (SELECT coalesce(json_agg(json_build_object(
            'release', c.release,
            'new endpoints', c."new endpoints",
            'tested', c.tested,
            'untested', c.untested,
            'total tested', c."total tested",
            'total untested', c."total untested",
            'total endpoints', c."total endpoints")
          ORDER BY release_key(c.release)), '[]')
   FROM conformance.coverage_per_release c) AS coverage_per_release,

  -- conformance-endpoints.json: per eligible endpoint, the release it appeared in
  -- (promotion_release), the release from which a conformance test covers it
  -- (never before the endpoint existed) and the conformance tests that hit it.
  (SELECT coalesce(json_agg(json_build_object(
            'endpoint', e.endpoint,
            'promotion_release', e.first_release,
            'tested_release', CASE
              WHEN release_key(e.first_conformance_test) < release_key(e.first_release)
                THEN e.first_release
              ELSE e.first_conformance_test END,
            'tests', coalesce(ch.tests, '[]'))
          ORDER BY release_key(e.first_release) DESC, e.endpoint COLLATE "C"), '[]')
   FROM conformance.eligible_endpoint_coverage e
   LEFT JOIN conformance_hit ch USING (endpoint)) AS conformance_endpoints,

  -- ineligible_endpoints.json
  (SELECT coalesce(json_agg(json_build_object(
            'endpoint', i.endpoint, 'reason', i.reason, 'link', i.link)
          ORDER BY i.endpoint COLLATE "C"), '[]')
   FROM conformance.ineligible_endpoint i) AS ineligible_endpoints,

  -- new-endpoints.json: per loaded release, oldest first, the endpoints its spec
  -- added (in no earlier loaded release's spec), every level, as apisnoop's file
  -- lists them; endpoints sorted.
  (SELECT coalesce(json_agg(json_build_object('release', n.release, 'endpoints', n.endpoints)
                            ORDER BY n.sort_key), '[]')
   FROM (SELECT f.release, r.sort_key,
                array_agg(f.endpoint ORDER BY f.endpoint COLLATE "C") AS endpoints
         FROM (SELECT o.endpoint, (array_agg(o.release ORDER BY r.sort_key))[1] AS release
               FROM open_api o JOIN release_order r ON r.release = o.release
               GROUP BY o.endpoint) AS f
         JOIN release_order r ON r.release = f.release
         GROUP BY f.release, r.sort_key) AS n) AS new_endpoints,

  -- releases.yaml: every loaded release, newest first, with its date (none while
  -- in development), rendered as YAML by export.py.
  (SELECT coalesce(json_agg(json_build_object('version', d.release,
                                              'release_date', d.release_date::date)
                            ORDER BY d.sort_key DESC), '[]')
   FROM (SELECT o.release, r.sort_key, min(o.release_date) AS release_date
         FROM open_api o JOIN release_order r ON r.release = o.release
         GROUP BY o.release, r.sort_key) AS d) AS releases,

  -- untested-endpoints.txt: eligible endpoints new in the release that no
  -- conformance test hits.
  ARRAY(SELECT n.endpoint
        FROM conformance.new_endpoint n
        JOIN target t ON n.release = t.release
        WHERE NOT n.tested
        ORDER BY n.endpoint COLLATE "C") AS untested_endpoints;
