-- snoopDB's audit_event_test: every test seen in a release's runs, matched to
-- conformance.test by codename (the name the e2e.test user agent carries).

CREATE VIEW audit_event_test AS
SELECT r.release,
       r.test,
       (t.codename IS NOT NULL) AS conformance_test,
       t.testname,
       t.file,
       t.release AS promotion_release
FROM release_test_hit r
JOIN release_order k ON k.release = r.release
LEFT JOIN conformance.test t ON t.codename = r.test
ORDER BY k.sort_key, r.test;

COMMENT ON VIEW audit_event_test IS 'Every test in the audit events of a release, and whether it is a conformance test';
COMMENT ON COLUMN audit_event_test.release IS 'Release of the runs the test was seen in, X.Y.Z';
COMMENT ON COLUMN audit_event_test.test IS 'Test name from the user agent, the codename in conformance.yaml ('''' = an e2e.test user agent without a test name)';
COMMENT ON COLUMN audit_event_test.conformance_test IS 'The test is listed in conformance.test';
COMMENT ON COLUMN audit_event_test.testname IS 'Conformance testname from conformance.yaml; null if not a conformance test';
COMMENT ON COLUMN audit_event_test.file IS 'File defining the conformance test; null if not a conformance test';
COMMENT ON COLUMN audit_event_test.promotion_release IS 'Release the test was promoted to conformance in; null if not a conformance test';
