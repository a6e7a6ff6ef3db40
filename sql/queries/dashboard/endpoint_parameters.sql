-- An endpoint's depth panel: its query parameters in one release, as
-- endpoint_parameter_coverage has them: the declared ones (required first, then by
-- name), then those requests passed that the spec does not declare (location null).
-- Parameters: %(endpoint)s, %(release)s.
SELECT parameter,
       location,
       required,
       hits,
       test_hits,
       conf_hits,
       tests,
       CASE WHEN conf_hits > 0 THEN 'conformance' WHEN test_hits > 0 THEN 'tested'
            ELSE 'untested' END AS state
FROM endpoint_parameter_coverage
WHERE endpoint = %(endpoint)s AND release = %(release)s
ORDER BY location IS NULL, required DESC, parameter COLLATE "C";
