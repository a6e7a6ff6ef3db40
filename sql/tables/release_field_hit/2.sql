-- Version 2 (revision 0010): a table partitioned by release (see release_endpoint_hit).

CREATE TABLE release_field_hit (
  release text NOT NULL,
  endpoint text NOT NULL,
  field text NOT NULL,
  known boolean NOT NULL,
  tested boolean NOT NULL,
  conf_tested boolean NOT NULL,
  tests text[] NOT NULL,
  hits bigint NOT NULL
) PARTITION BY LIST (release);

CREATE UNIQUE INDEX release_field_hit_key ON release_field_hit (release, endpoint, field, known);
COMMENT ON TABLE release_field_hit IS
  'Per release, endpoint and field set by a request body of that release''s runs: whether tests set it and which (from endpoint_field_hit; refresh_release_coverage() rewrites a release''s partition)';
COMMENT ON COLUMN release_field_hit.release IS 'Release the runs count towards, X.Y.Z';
COMMENT ON COLUMN release_field_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN release_field_hit.field IS 'Field path';
COMMENT ON COLUMN release_field_hit.known IS 'The field is in the endpoint''s body schema';
COMMENT ON COLUMN release_field_hit.tested IS 'Set by a body from a test (e2e.test) user agent';
COMMENT ON COLUMN release_field_hit.conf_tested IS 'Set by a body from a [Conformance] user agent';
COMMENT ON COLUMN release_field_hit.tests IS 'Distinct test names whose bodies set it, sorted';
COMMENT ON COLUMN release_field_hit.hits IS 'Number of bodies that set it';
