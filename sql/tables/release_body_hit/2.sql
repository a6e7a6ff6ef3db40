-- Version 2 (revision 0010): a table partitioned by release (see release_endpoint_hit).

CREATE TABLE release_body_hit (
  release text NOT NULL,
  endpoint text NOT NULL,
  bodies bigint NOT NULL,
  test_bodies bigint,
  conf_bodies bigint
) PARTITION BY LIST (release);

CREATE UNIQUE INDEX release_body_hit_key ON release_body_hit (release, endpoint);
COMMENT ON TABLE release_body_hit IS
  'Per release and endpoint: audit events that carried a request body (from endpoint_body_hit; refresh_release_coverage() rewrites a release''s partition)';
COMMENT ON COLUMN release_body_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_body_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN release_body_hit.bodies IS 'Events with a request body';
COMMENT ON COLUMN release_body_hit.test_bodies IS 'Of them, from test (e2e.test) user agents';
COMMENT ON COLUMN release_body_hit.conf_bodies IS 'Of them, from [Conformance] user agents';
