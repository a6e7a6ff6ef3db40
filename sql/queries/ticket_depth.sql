-- The ticket's checklist: for each endpoint the live test (%(useragent)s) hit, the
-- query parameters the latest release's spec declares for it (`pretty` aside: it
-- only indents the response) and the status codes it declares, each with how many of
-- the release's requests by conformance tests passed it, or responses to them had
-- it (conf_hits; 0 when none did, null where the release has no events), and
-- whether the live test's own requests passed it or got it (testing.param_hit,
-- testing.status_hit). Parameters first (required ones first, then by name), then codes.
WITH hit AS (
  SELECT endpoint FROM testing.endpoint_hit_by_new_test WHERE useragent = %(useragent)s
), latest AS (
  SELECT latest_release() AS release
)
SELECT p.endpoint, 'parameter' AS what, p.parameter AS name, p.required, c.conf_hits,
       EXISTS (SELECT FROM testing.param_hit t
               WHERE t.useragent = %(useragent)s AND t.endpoint = p.endpoint
                 AND t.parameter = p.parameter) AS live
FROM endpoint_parameter p
JOIN latest l ON l.release = p.release
LEFT JOIN endpoint_parameter_coverage c
  ON c.release = p.release AND c.endpoint = p.endpoint AND c.parameter = p.parameter
     AND c.location IS NOT NULL
WHERE p.endpoint IN (SELECT endpoint FROM hit) AND p.location = 'query'
  AND p.parameter <> 'pretty'
UNION ALL
SELECT r.endpoint, 'code', r.code, false, s.conf_hits,
       EXISTS (SELECT FROM testing.status_hit t
               WHERE t.useragent = %(useragent)s AND t.endpoint = r.endpoint
                 AND t.code = r.code)
FROM endpoint_response r
JOIN latest l ON l.release = r.release
LEFT JOIN endpoint_status_coverage s
  ON s.release = r.release AND s.endpoint = r.endpoint AND s.code = r.code
WHERE r.endpoint IN (SELECT endpoint FROM hit)
ORDER BY 1, 2 DESC, 4 DESC, 3;
