-- Version 1 (revision 0019): a table partitioned by release, as release_field_hit.

CREATE TABLE release_param_hit (
  release text NOT NULL,
  endpoint text NOT NULL,
  parameter text NOT NULL,
  value text,
  hits bigint NOT NULL,
  test_hits bigint NOT NULL,
  conf_hits bigint NOT NULL,
  tests text[] NOT NULL
) PARTITION BY LIST (release);

CREATE UNIQUE INDEX release_param_hit_key
  ON release_param_hit (release, endpoint, parameter, value) NULLS NOT DISTINCT;
COMMENT ON TABLE release_param_hit IS
  'Per release, endpoint, query parameter and (for those that select behaviour) value: the events of that release''s runs that named it (from run_param_hit; refresh_release_coverage() rewrites a release''s partition)';
COMMENT ON COLUMN release_param_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_param_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN release_param_hit.parameter IS 'Query parameter name; $more: names past the 100 undeclared ones listed per endpoint and run';
COMMENT ON COLUMN release_param_hit.value IS 'Its value for the parameters that select behaviour, null for the others';
COMMENT ON COLUMN release_param_hit.hits IS 'Events that named it';
COMMENT ON COLUMN release_param_hit.test_hits IS 'Of them, from e2e.test user agents';
COMMENT ON COLUMN release_param_hit.conf_hits IS 'Of them, from [Conformance] user agents';
COMMENT ON COLUMN release_param_hit.tests IS 'Distinct test names whose events named it, sorted';
