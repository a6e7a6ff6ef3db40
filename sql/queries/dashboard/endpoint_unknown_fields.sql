-- Paths an endpoint's request bodies set that its schema of the release does
-- not have. Parameters: %(endpoint)s, %(release)s.
SELECT field, hits, tests
FROM endpoint_unknown_field
WHERE endpoint = %(endpoint)s AND release = %(release)s
ORDER BY field;
