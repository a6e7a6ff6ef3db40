-- The foundation schema (revision 0001): specs, CI audit events, conformance lists,
-- live events and the load log. Column names are snoopDB's: queries from its
-- talks and docs run unchanged.

CREATE SCHEMA IF NOT EXISTS conformance;
COMMENT ON SCHEMA conformance IS 'Conformance tests, ineligible endpoints and conformance coverage views';
CREATE SCHEMA IF NOT EXISTS testing;
COMMENT ON SCHEMA testing IS 'Live audit events from a cluster where a test is being written, and views over them';

-- pg-semver lets the seed''s ad-hoc queries write release::semver; optional.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'semver') THEN
    CREATE EXTENSION IF NOT EXISTS semver;
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'semver extension available but not installable by this user; skipped';
END
$$;

-- One expression with no FROM, so the planner inlines it into the queries using it.
CREATE FUNCTION release_key(release text) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT string_to_array((regexp_match(release, '^v?(\d+\.\d+(?:\.\d+)?)'))[1], '.')::int[]
$$;
COMMENT ON FUNCTION release_key(text) IS
  'Sort key of a release name (1.9.0 < 1.10.0): order by release_key(release); null for names such as live';

CREATE TABLE open_api (
  release text NOT NULL,
  release_date timestamp,
  endpoint text NOT NULL,
  level text NOT NULL,
  category text,
  path text NOT NULL,
  k8s_group text,
  k8s_version text,
  k8s_kind text,
  k8s_action text,
  deprecated boolean NOT NULL,
  description text,
  spec text NOT NULL,
  method text NOT NULL,
  PRIMARY KEY (release, endpoint)
);
CREATE INDEX open_api_endpoint ON open_api (endpoint);
COMMENT ON TABLE open_api IS 'One row per (release, endpoint): every operation of each release''s OpenAPI spec';
COMMENT ON COLUMN open_api.release IS 'Release the spec belongs to, X.Y.Z (e.g. 1.20.0)';
COMMENT ON COLUMN open_api.release_date IS 'Date the release was published';
COMMENT ON COLUMN open_api.endpoint IS 'The operationId, e.g. connectCoreV1GetNamespacedPodExec';
COMMENT ON COLUMN open_api.level IS 'alpha or beta when the path says so, else stable';
COMMENT ON COLUMN open_api.category IS 'First tag up to its first underscore (core_v1 -> core)';
COMMENT ON COLUMN open_api.path IS 'Path template, e.g. /api/v1/namespaces/{namespace}/pods/{name}/exec';
COMMENT ON COLUMN open_api.k8s_group IS 'x-kubernetes-group-version-kind group ('''' for core)';
COMMENT ON COLUMN open_api.k8s_version IS 'x-kubernetes-group-version-kind version';
COMMENT ON COLUMN open_api.k8s_kind IS 'x-kubernetes-group-version-kind kind';
COMMENT ON COLUMN open_api.k8s_action IS 'x-kubernetes-action (get, list, create, connect, ...)';
COMMENT ON COLUMN open_api.deprecated IS 'True when the description mentions deprecated (any case)';
COMMENT ON COLUMN open_api.description IS 'The operation''s description';
COMMENT ON COLUMN open_api.spec IS 'URL or file the spec was loaded from';
COMMENT ON COLUMN open_api.method IS 'HTTP method of the operation (get, post, put, patch, delete, options, head)';

CREATE TABLE audit_event (
  release text NOT NULL,
  release_date text,
  audit_id text,
  endpoint text,
  useragent text,
  test text,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  data jsonb NOT NULL,
  source text NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ingested_at timestamp NOT NULL DEFAULT now(),
  error text
);
CREATE INDEX audit_event_source ON audit_event (source);
COMMENT ON TABLE audit_event IS 'One row per audit event of a CI run, mapped to its endpoint';
COMMENT ON COLUMN audit_event.release IS 'Release the run counts towards, X.Y.Z (capped at the newest known release)';
COMMENT ON COLUMN audit_event.release_date IS 'Release date of that release';
COMMENT ON COLUMN audit_event.audit_id IS 'auditID of the event';
COMMENT ON COLUMN audit_event.endpoint IS 'operationId the request maps to; null when none does (see error)';
COMMENT ON COLUMN audit_event.useragent IS 'userAgent of the request';
COMMENT ON COLUMN audit_event.test IS 'For e2e.test user agents the test name after the first " -- " ('''' if none); null otherwise';
COMMENT ON COLUMN audit_event.test_hit IS 'User agent starts with e2e.test';
COMMENT ON COLUMN audit_event.conf_test_hit IS 'User agent contains [Conformance]';
COMMENT ON COLUMN audit_event.data IS 'The whole audit event';
COMMENT ON COLUMN audit_event.source IS 'Where the run''s logs are (prow URL, or the local files)';
COMMENT ON COLUMN audit_event.id IS 'Generated row id';
COMMENT ON COLUMN audit_event.ingested_at IS 'When the row was loaded';
COMMENT ON COLUMN audit_event.error IS 'Why the event has no endpoint; null when it has one';

CREATE TABLE conformance.test (
  testname text,
  codename text PRIMARY KEY,
  release text NOT NULL,
  description text,
  file text,
  historical boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE conformance.test IS
  'Conformance tests from the newest loaded conformance.yaml, and historical ones named by imported coverage files';
COMMENT ON COLUMN conformance.test.testname IS 'Short name of the test';
COMMENT ON COLUMN conformance.test.codename IS 'Full test name as the e2e.test user agent carries it';
COMMENT ON COLUMN conformance.test.release IS 'Release the test was promoted to conformance in, X.Y.Z';
COMMENT ON COLUMN conformance.test.description IS 'What the test checks';
COMMENT ON COLUMN conformance.test.file IS 'Source file of the test in kubernetes/kubernetes';
-- Renamed or removed tests: the codename join of the coverage views must still
-- recognise them in old releases' hits; conformance.yaml loads keep these rows.
COMMENT ON COLUMN conformance.test.historical IS
  'Not in the loaded conformance.yaml: named as a conformance test by an imported coverage file (renamed or removed since)';

CREATE TABLE conformance.ineligible_endpoint (
  endpoint text PRIMARY KEY,
  reason text,
  link text
);
COMMENT ON TABLE conformance.ineligible_endpoint IS 'Endpoints that conformance tests are not expected to cover';
COMMENT ON COLUMN conformance.ineligible_endpoint.endpoint IS 'The operationId';
COMMENT ON COLUMN conformance.ineligible_endpoint.reason IS 'Why it is ineligible';
COMMENT ON COLUMN conformance.ineligible_endpoint.link IS 'Issue or discussion behind the decision';

CREATE TABLE testing.audit_event (LIKE public.audit_event INCLUDING ALL);
COMMENT ON TABLE testing.audit_event IS 'Live audit events from a cluster (release = live), endpoint mapped on insert from the newest spec';

CREATE TABLE load_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  release text,
  source text NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  rows bigint NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX load_log_kind_release ON load_log (kind, release);
COMMENT ON TABLE load_log IS 'One row per load: what was loaded, from where, when, and how many rows';
COMMENT ON COLUMN load_log.id IS 'Generated row id';
COMMENT ON COLUMN load_log.kind IS 'What was loaded: spec, conformance, ineligible, audit, ...';
COMMENT ON COLUMN load_log.release IS 'Release the load was for';
COMMENT ON COLUMN load_log.source IS 'URL, file or run loaded';
COMMENT ON COLUMN load_log.started_at IS 'When the load started';
COMMENT ON COLUMN load_log.finished_at IS 'When the load committed';
COMMENT ON COLUMN load_log.rows IS 'Rows written';
COMMENT ON COLUMN load_log.details IS 'Load-specific figures (e.g. unmatched events by reason)';
