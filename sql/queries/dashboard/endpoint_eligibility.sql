-- An endpoint's page: its conformance.eligible_endpoint_coverage row (no row: the
-- endpoint is not eligible for conformance). Parameter: %(endpoint)s.
SELECT first_release,
       first_conformance_test,
       test,
       codename,
       file,
       all_test_releases
FROM conformance.eligible_endpoint_coverage
WHERE endpoint = %(endpoint)s;
