-- The endpoints a live user agent (the parameter) hit, with their coverage in the latest release.
SELECT h.endpoint, h.hit_by_ete, h.hit_by_new_test, ec.path, ec.kind, ec."group", ec.version,
       ec.level,
       EXISTS (SELECT FROM conformance.eligible_endpoint e WHERE e.endpoint = h.endpoint)
FROM testing.endpoint_hit_by_new_test h
JOIN endpoint_coverage ec ON ec.endpoint = h.endpoint AND ec.release = (SELECT latest_release())
WHERE h.useragent = %s
ORDER BY h.endpoint
