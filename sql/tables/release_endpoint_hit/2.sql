-- Version 2 (revision 0010): a table partitioned by release instead of a materialized
-- view, so that a load rewrites only its release's rows (refresh_release_coverage):
-- one partition per release, summaries.release_endpoint_hit_<release>.

CREATE TABLE release_endpoint_hit (
  release text NOT NULL,
  endpoint text NOT NULL,
  tested boolean NOT NULL,
  conf_tested boolean NOT NULL,
  tests text[] NOT NULL
) PARTITION BY LIST (release);

CREATE UNIQUE INDEX release_endpoint_hit_key ON release_endpoint_hit (release, endpoint);
COMMENT ON TABLE release_endpoint_hit IS
  'Per release and endpoint hit in that release''s runs: whether tests hit it and which (from endpoint_hit; refresh_release_coverage() rewrites a release''s partition)';
COMMENT ON COLUMN release_endpoint_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_endpoint_hit.endpoint IS 'The operationId hit';
COMMENT ON COLUMN release_endpoint_hit.tested IS 'Hit at least once by a test (e2e.test) user agent';
COMMENT ON COLUMN release_endpoint_hit.conf_tested IS 'Hit at least once by a [Conformance] user agent';
COMMENT ON COLUMN release_endpoint_hit.tests IS 'Distinct test names that hit it, sorted ('''' = an e2e.test user agent without a test name)';
