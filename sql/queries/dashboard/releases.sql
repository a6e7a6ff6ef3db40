-- The releases whose spec is loaded, newest first: the dashboard's release picker.
SELECT r.release
FROM release_order r
WHERE EXISTS (SELECT FROM open_api o WHERE o.release = r.release)
ORDER BY r.sort_key DESC;
