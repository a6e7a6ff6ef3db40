-- An endpoint's field tree in one release, parents before children.
-- Parameters: %(endpoint)s, %(release)s.
SELECT field,
       parent,
       type,
       recursion,
       ref,
       leaf,
       tested,
       conf_tested,
       tests,
       hits,
       CASE WHEN conf_tested THEN 'conformance' WHEN tested THEN 'tested'
            ELSE 'untested' END AS state
FROM endpoint_field_coverage
WHERE endpoint = %(endpoint)s AND release = %(release)s
ORDER BY position;
