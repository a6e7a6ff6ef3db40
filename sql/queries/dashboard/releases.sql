-- The releases whose spec is loaded, newest first, with where each one's coverage
-- comes from (release_coverage: 'audit events', 'published coverage' or 'no data'):
-- the release picker, and the dashboard's default release, the newest one with
-- coverage data (a spec loaded on its own, say a typo's development release,
-- must not make the dashboard open on a release nothing is known of).
SELECT rc.release, rc.coverage
FROM release_coverage rc
JOIN release_order r ON r.release = rc.release
ORDER BY r.sort_key DESC;
