-- An endpoint's page: the tests that hit it (endpoint_coverage.tests of every
-- release) with what audit_event_test knows of them: whether each is a conformance
-- test, its testname and promotion release. Conformance tests first, earliest
-- promoted first. Parameter: %(endpoint)s.
-- A test's conformance facts come from conformance.test by codename, the same in
-- every release's audit_event_test row: the aggregates only pick that one value.
SELECT t.test,
       bool_or(aet.conformance_test) AS conformance_test,
       min(aet.testname) AS testname,
       min(aet.promotion_release) AS promotion_release,
       array_agg(ec.release ORDER BY r.sort_key) AS releases
FROM endpoint_coverage ec
CROSS JOIN unnest(ec.tests) AS t(test)
JOIN release_order r ON r.release = ec.release
JOIN audit_event_test aet ON aet.release = ec.release AND aet.test = t.test
WHERE ec.endpoint = %(endpoint)s
GROUP BY t.test
ORDER BY bool_or(aet.conformance_test) DESC, min(release_key(aet.promotion_release)) NULLS LAST,
         t.test COLLATE "C";
