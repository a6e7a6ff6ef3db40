-- The endpoints a live user agent (the parameter) hit, with their coverage in the latest
-- release and their level and eligibility there (endpoint_eligibility, the one rule).
SELECT h.endpoint, h.hit_by_ete, h.hit_by_new_test, ec.path, ec.kind, ec."group", ec.version,
       e.level, e.eligible, e.reason
FROM testing.endpoint_hit_by_new_test h
JOIN endpoint_coverage ec ON ec.endpoint = h.endpoint AND ec.release = (SELECT latest_release())
JOIN endpoint_eligibility e ON e.release = ec.release AND e.endpoint = ec.endpoint
WHERE h.useragent = %s
ORDER BY h.endpoint
