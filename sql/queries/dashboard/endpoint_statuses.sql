-- An endpoint's depth panel: its response status codes in one release
-- (endpoint_status_coverage): every code the spec declares and every code its
-- responses had, by code. Parameters: %(endpoint)s, %(release)s.
SELECT code,
       declared,
       hits,
       conf_hits,
       -- seen: in responses to other callers only (the view does not split tests off)
       CASE WHEN conf_hits > 0 THEN 'conformance' WHEN hits > 0 THEN 'seen'
            ELSE 'unseen' END AS state
FROM endpoint_status_coverage
WHERE endpoint = %(endpoint)s AND release = %(release)s
ORDER BY code;
