-- An endpoint's depth panel: its response status codes in one release
-- (endpoint_status_coverage): every code the spec declares and every code its
-- responses had, by code; with the tests that saw each (release_status_hit).
-- state: conformance (a conformance test saw it), tested (tests only), untested
-- (no test: other callers may have). Parameters: %(endpoint)s, %(release)s.
SELECT s.code,
       s.declared,
       s.hits,
       coalesce(h.test_hits, 0) AS test_hits,
       s.conf_hits,
       coalesce(h.tests, '{}') AS tests,
       CASE WHEN s.conf_hits > 0 THEN 'conformance' WHEN h.test_hits > 0 THEN 'tested'
            ELSE 'untested' END AS state
FROM endpoint_status_coverage s
LEFT JOIN release_status_hit h
  ON h.release = s.release AND h.endpoint = s.endpoint AND h.code = s.code
WHERE s.endpoint = %(endpoint)s AND s.release = %(release)s
ORDER BY s.code;
