-- Version 1 (revision 0019): a table partitioned by release, as release_field_hit.

CREATE TABLE release_status_hit (
  release text NOT NULL,
  endpoint text NOT NULL,
  code text NOT NULL,
  hits bigint NOT NULL,
  test_hits bigint NOT NULL,
  conf_hits bigint NOT NULL,
  tests text[] NOT NULL
) PARTITION BY LIST (release);

CREATE UNIQUE INDEX release_status_hit_key ON release_status_hit (release, endpoint, code);
COMMENT ON TABLE release_status_hit IS
  'Per release, endpoint and response status code: the events of that release''s runs answered with it (from run_status_hit; refresh_release_coverage() rewrites a release''s partition)';
COMMENT ON COLUMN release_status_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_status_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN release_status_hit.code IS 'responseStatus.code (100-599), or $invalid';
COMMENT ON COLUMN release_status_hit.hits IS 'Events answered with it';
COMMENT ON COLUMN release_status_hit.test_hits IS 'Of them, from e2e.test user agents';
COMMENT ON COLUMN release_status_hit.conf_hits IS 'Of them, from [Conformance] user agents';
COMMENT ON COLUMN release_status_hit.tests IS 'Distinct test names whose events it answered, sorted';
