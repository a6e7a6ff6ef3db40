-- The tests seen in each release's runs, materialized so that audit_event_test
-- does not rescan endpoint_hit. Refreshed by refresh_coverage().

CREATE MATERIALIZED VIEW release_test_hit AS
SELECT DISTINCT release, test
FROM endpoint_hit
WHERE test IS NOT NULL;

CREATE UNIQUE INDEX release_test_hit_key ON release_test_hit (release, test);
COMMENT ON MATERIALIZED VIEW release_test_hit IS
  'Every test name seen in a release''s runs (from endpoint_hit; refresh_coverage() refreshes it)';
COMMENT ON COLUMN release_test_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_test_hit.test IS 'Test name from the user agent ('''' = an e2e.test user agent without a test name)';
