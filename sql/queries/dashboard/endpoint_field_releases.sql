-- An endpoint's page: its field_coverage_summary row in every release whose
-- spec gives it a request body, oldest first. Parameter: %(endpoint)s.
SELECT s.release,
       s.fields,
       s.tested_fields,
       s.conf_tested_fields,
       s.observed_bodies,
       s.unknown_fields,
       s.definition,
       s.how
FROM field_coverage_summary s
JOIN release_order r ON r.release = s.release
WHERE s.endpoint = %(endpoint)s
ORDER BY r.sort_key;
