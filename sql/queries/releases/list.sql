-- `snoopdb releases`: every release the database holds something of, newest first,
-- with what it holds: its spec (or open_api rows imported from a published file),
-- the conformance.yaml loaded for it since it was last dropped (and whether that list
-- is the one in conformance.test), its CI runs and its imported published coverage;
-- `latest` marks latest_release(), the release the views answer for.
-- Runs and imported coverage are audit_run's rows (schema revision 0010).

WITH dropped AS (
  SELECT release, max(id) AS id FROM load_log WHERE kind = 'drop' GROUP BY release
), conformance_load AS (
  SELECT DISTINCT ON (l.release) l.release, l.rows, l.id
  FROM load_log l
  LEFT JOIN dropped d ON d.release = l.release
  WHERE l.kind = 'conformance' AND l.id > coalesce(d.id, 0)
  ORDER BY l.release, l.id DESC
), conformance_in_use AS (
  SELECT release FROM load_log WHERE kind = 'conformance' ORDER BY id DESC LIMIT 1
), spec AS (
  SELECT release, count(*) AS endpoints, bool_and(imported) AS imported, min(spec) AS spec,
         min(release_date)::date AS release_date
  FROM open_api GROUP BY release
), hit AS (
  SELECT release,
         count(*) FILTER (WHERE state IN ('hot', 'compact', 'archived')) AS runs,
         min(source) FILTER (WHERE state = 'imported') AS published
  FROM audit_run GROUP BY release
), known AS (
  SELECT release FROM spec
  UNION SELECT release FROM hit
  UNION SELECT release FROM conformance_load
)
SELECT k.release,
       s.release_date,
       coalesce(s.endpoints, 0) AS endpoints,
       s.spec,
       coalesce(s.imported, false) AS spec_imported,
       c.rows AS conformance_tests,
       coalesce(k.release = (SELECT release FROM conformance_in_use), false)
         AND c.release IS NOT NULL AS conformance_in_use,
       coalesce(h.runs, 0) AS runs,
       h.published,
       k.release IS NOT DISTINCT FROM latest_release() AS latest
FROM known k
LEFT JOIN spec s ON s.release = k.release
LEFT JOIN hit h ON h.release = k.release
LEFT JOIN conformance_load c ON c.release = k.release
ORDER BY release_key(k.release) DESC NULLS LAST, k.release;
