-- Where each loaded release's coverage comes from, so that a release with none
-- says "no data" rather than showing every endpoint untested: its CI runs' audit
-- events, apisnoop's published coverage file (imported), or nothing.

CREATE VIEW release_coverage AS
SELECT r.release,
       CASE WHEN EXISTS (SELECT FROM endpoint_hit h WHERE h.release = r.release AND NOT h.imported)
              THEN 'audit events'
            WHEN EXISTS (SELECT FROM endpoint_hit h WHERE h.release = r.release)
              THEN 'published coverage'
            ELSE 'no data' END AS coverage,
       r.release = coverage_release() AS counted
FROM (SELECT DISTINCT o.release, ro.sort_key
      FROM open_api o JOIN release_order ro ON ro.release = o.release) AS r
ORDER BY r.sort_key;

COMMENT ON VIEW release_coverage IS
  'Per loaded release, where its coverage comes from (audit events, published coverage or no data)';
COMMENT ON COLUMN release_coverage.release IS 'The release, X.Y.Z';
COMMENT ON COLUMN release_coverage.coverage IS
  '''audit events'' (CI runs loaded), ''published coverage'' (apisnoop''s file imported) or ''no data''';
COMMENT ON COLUMN release_coverage.counted IS
  'The release whose test hits the conformance.* views count: coverage_release(), the newest with data';
