-- Version 2 (revision 0010): a table partitioned by release (see release_endpoint_hit).

CREATE TABLE release_test_hit (
  release text NOT NULL,
  test text NOT NULL
) PARTITION BY LIST (release);

CREATE UNIQUE INDEX release_test_hit_key ON release_test_hit (release, test);
COMMENT ON TABLE release_test_hit IS
  'Every test name seen in a release''s runs (refresh_release_coverage() rewrites a release''s partition)';
COMMENT ON COLUMN release_test_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_test_hit.test IS 'Test name from the user agent ('''' = an e2e.test user agent without a test name)';
