-- Field-level coverage (revision 0009): the fields of each endpoint's request
-- body, from the spec, and the fields that logged request bodies set, tallied
-- by the loaders (so no view rescans audit_event).

CREATE TABLE endpoint_body (
  release text NOT NULL,
  endpoint text NOT NULL,
  definition text NOT NULL,
  how text NOT NULL CHECK (how IN ('body', 'patch')),
  PRIMARY KEY (release, endpoint)
);
CREATE INDEX endpoint_body_definition ON endpoint_body (release, definition);
COMMENT ON TABLE endpoint_body IS
  'The request body schema of each endpoint that takes a body, per release (loaded with the spec)';
COMMENT ON COLUMN endpoint_body.release IS 'Release of the spec, X.Y.Z';
COMMENT ON COLUMN endpoint_body.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_body.definition IS 'The spec definition of the body, e.g. io.k8s.api.core.v1.Pod';
COMMENT ON COLUMN endpoint_body.how IS 'body: the body parameter''s schema; patch: the patched resource (the 200 response), since a patch''s own schema is the opaque meta.v1.Patch';

-- A definition's field tree rarely changes between releases (Pod's 1,361 fields
-- are much the same in 1.34, 1.35 and 1.36), so trees are stored once, named by a
-- digest of their rows, and each release points at the trees of its definitions.
CREATE TABLE body_schema (
  release text NOT NULL,
  definition text NOT NULL,
  digest text NOT NULL,
  fields integer NOT NULL,
  PRIMARY KEY (release, definition)
);
CREATE INDEX body_schema_digest ON body_schema (digest);
COMMENT ON TABLE body_schema IS
  'The field tree of each body definition of a release (loaded with the spec): a digest naming its body_field rows';
COMMENT ON COLUMN body_schema.release IS 'Release of the spec, X.Y.Z';
COMMENT ON COLUMN body_schema.definition IS 'The body definition (endpoint_body.definition)';
COMMENT ON COLUMN body_schema.digest IS 'Digest of its field rows (body_field.digest): equal trees of different releases share their rows';
COMMENT ON COLUMN body_schema.fields IS 'Number of its fields';

CREATE TABLE body_field (
  digest text NOT NULL,
  field text NOT NULL,
  parent text NOT NULL,
  name text NOT NULL,
  type text NOT NULL,
  ref text,
  recursion boolean NOT NULL,
  leaf boolean NOT NULL,
  position integer NOT NULL,
  PRIMARY KEY (digest, field)
);
COMMENT ON TABLE body_field IS
  'Every field reachable from a body definition: one row per field of each distinct field tree (body_schema.digest)';
COMMENT ON COLUMN body_field.digest IS 'The tree (body_schema.digest)';
COMMENT ON COLUMN body_field.field IS 'Dotted path from the body: spec.containers[].image ([] steps into an array of objects, {} into a map of objects)';
COMMENT ON COLUMN body_field.parent IS 'Path of the field holding it, '''' at the top';
COMMENT ON COLUMN body_field.name IS 'The property name';
COMMENT ON COLUMN body_field.type IS 'object, array (of objects), map (of objects), or a leaf: string, integer, boolean, number, object (free-form), array of <type>, map of <type>';
COMMENT ON COLUMN body_field.ref IS 'The definition of its value (or of its items), if any';
COMMENT ON COLUMN body_field.recursion IS 'Cut here: ref recurs on its own path (JSONSchemaProps); what a body sets beneath counts as setting this field';
COMMENT ON COLUMN body_field.leaf IS 'Has no fields of its own listed';
COMMENT ON COLUMN body_field.position IS 'Order of the field in the tree: parents first, siblings by name';

CREATE TABLE endpoint_field_hit (
  release text NOT NULL,
  source text NOT NULL,
  endpoint text NOT NULL,
  field text NOT NULL,
  known boolean NOT NULL,
  test text,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  hits bigint NOT NULL
);
-- No unique key over the eight columns (endpoint_hit has one): the loader's tally
-- makes the rows of a run unique, and at a million rows a run the index would
-- cost more than the rest of the COPY.
CREATE INDEX endpoint_field_hit_source ON endpoint_field_hit (source);
COMMENT ON TABLE endpoint_field_hit IS
  'Request bodies that set a field, per (release, run, endpoint, field, test, user-agent class): what the field views read';
COMMENT ON COLUMN endpoint_field_hit.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN endpoint_field_hit.source IS 'The run (audit_event.source)';
COMMENT ON COLUMN endpoint_field_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_field_hit.field IS 'Field path (body_field.field), or the path of a field the schema does not have';
COMMENT ON COLUMN endpoint_field_hit.known IS 'The field is in the endpoint''s body schema of the release; false: unknown to it';
COMMENT ON COLUMN endpoint_field_hit.test IS 'Test name as in audit_event.test';
COMMENT ON COLUMN endpoint_field_hit.test_hit IS 'Bodies came from an e2e.test user agent';
COMMENT ON COLUMN endpoint_field_hit.conf_test_hit IS 'Bodies came from a [Conformance] user agent';
COMMENT ON COLUMN endpoint_field_hit.hits IS 'Number of request bodies that set the field';

CREATE TABLE endpoint_body_hit (
  release text NOT NULL,
  source text NOT NULL,
  endpoint text NOT NULL,
  test text,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  bodies bigint NOT NULL,
  UNIQUE NULLS NOT DISTINCT (release, source, endpoint, test, test_hit, conf_test_hit)
);
CREATE INDEX endpoint_body_hit_source ON endpoint_body_hit (source);
COMMENT ON TABLE endpoint_body_hit IS
  'Audit events that carried a request body (requestObject), per (release, run, endpoint, test, user-agent class)';
COMMENT ON COLUMN endpoint_body_hit.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN endpoint_body_hit.source IS 'The run (audit_event.source)';
COMMENT ON COLUMN endpoint_body_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_body_hit.test IS 'Test name as in audit_event.test';
COMMENT ON COLUMN endpoint_body_hit.test_hit IS 'Bodies came from an e2e.test user agent';
COMMENT ON COLUMN endpoint_body_hit.conf_test_hit IS 'Bodies came from a [Conformance] user agent';
COMMENT ON COLUMN endpoint_body_hit.bodies IS 'Number of events with a request body';

-- Live events: per user agent rather than per test (a test being written is
-- named by its user agent), and dated so that retention removes them with the events.
CREATE TABLE testing.field_hit (
  source text NOT NULL,
  useragent text,
  endpoint text NOT NULL,
  field text NOT NULL,
  known boolean NOT NULL,
  hits bigint NOT NULL,
  ingested_at timestamp NOT NULL DEFAULT now()
);
CREATE INDEX field_hit_useragent ON testing.field_hit (useragent, endpoint);
CREATE INDEX field_hit_ingested_at ON testing.field_hit (ingested_at);
CREATE INDEX field_hit_source ON testing.field_hit (source);
COMMENT ON TABLE testing.field_hit IS
  'Fields set by live request bodies, per batch (source, time), user agent and endpoint';
COMMENT ON COLUMN testing.field_hit.source IS 'As testing.audit_event.source';
COMMENT ON COLUMN testing.field_hit.useragent IS 'The user agent, e.g. live-test-writing';
COMMENT ON COLUMN testing.field_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN testing.field_hit.field IS 'Field path, or the path of a field the latest release''s schema does not have';
COMMENT ON COLUMN testing.field_hit.known IS 'The field is in the endpoint''s body schema';
COMMENT ON COLUMN testing.field_hit.hits IS 'Number of request bodies that set it';
COMMENT ON COLUMN testing.field_hit.ingested_at IS 'When the batch was stored (as testing.audit_event.ingested_at)';

CREATE TABLE testing.body_hit (
  source text NOT NULL,
  useragent text,
  endpoint text NOT NULL,
  bodies bigint NOT NULL,
  ingested_at timestamp NOT NULL DEFAULT now()
);
CREATE INDEX body_hit_ingested_at ON testing.body_hit (ingested_at);
CREATE INDEX body_hit_source ON testing.body_hit (source);
COMMENT ON TABLE testing.body_hit IS 'Live events that carried a request body, per batch, user agent and endpoint';
COMMENT ON COLUMN testing.body_hit.source IS 'As testing.audit_event.source';
COMMENT ON COLUMN testing.body_hit.useragent IS 'The user agent';
COMMENT ON COLUMN testing.body_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN testing.body_hit.bodies IS 'Number of events with a request body';
COMMENT ON COLUMN testing.body_hit.ingested_at IS 'When the batch was stored';
