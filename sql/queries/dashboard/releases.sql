-- The releases whose spec is loaded, newest first, and whether each has coverage
-- data (hits from CI runs or imported published coverage, in release_endpoint_hit,
-- as endpoint_coverage decides it): the release picker, and the dashboard's
-- default release, the newest one with data (a spec loaded on its own, say a
-- typo's development release, must not make the dashboard open on a release
-- nothing is known of).
SELECT r.release,
       EXISTS (SELECT FROM release_endpoint_hit h WHERE h.release = r.release) AS has_data
FROM release_order r
WHERE EXISTS (SELECT FROM open_api o WHERE o.release = r.release)
ORDER BY r.sort_key DESC;
