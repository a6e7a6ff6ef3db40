-- An endpoint's page, its depth panel: its endpoint_depth row in every release it
-- exists in, oldest first (depth null where the release has no events).
-- Parameter: %(endpoint)s.
SELECT d.*
FROM endpoint_depth d
JOIN release_order r ON r.release = d.release
WHERE d.endpoint = %(endpoint)s
ORDER BY r.sort_key;
