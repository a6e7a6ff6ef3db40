-- An endpoint's page: its endpoint_coverage row in every release it exists in
-- (non-deprecated), oldest first; tests is null where the release has no coverage
-- data. Parameter: %(endpoint)s.
SELECT ec.release,
       ec.level,
       ec.category,
       ec.path,
       ec.description,
       ec.kind,
       ec.version,
       ec."group",
       ec.action,
       ec.tested,
       ec.conf_tested,
       -- unknown, not 0, where the release has no coverage data
       CASE WHEN ec.tested IS NOT NULL THEN cardinality(ec.tests) END AS tests
FROM endpoint_coverage ec
JOIN release_order r ON r.release = ec.release
WHERE ec.endpoint = %(endpoint)s
ORDER BY r.sort_key;
