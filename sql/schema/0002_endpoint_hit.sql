-- The summary the coverage views read (revision 0002): hits per release, run,
-- endpoint and test. Loaders fill it in the same transaction as the events, so
-- views never rescan audit_event; history imports fill it too (imported = true).

CREATE TABLE endpoint_hit (
  release text NOT NULL,
  source text NOT NULL,
  endpoint text NOT NULL,
  test text,
  test_hit boolean NOT NULL,
  conf_test_hit boolean NOT NULL,
  hits bigint NOT NULL,
  imported boolean NOT NULL DEFAULT false,
  UNIQUE NULLS NOT DISTINCT (release, source, endpoint, test, test_hit, conf_test_hit)
);
CREATE INDEX endpoint_hit_release_endpoint ON endpoint_hit (release, endpoint);
CREATE INDEX endpoint_hit_source ON endpoint_hit (source);
COMMENT ON TABLE endpoint_hit IS
  'Hit counts per (release, source, endpoint, test, user-agent class): what the coverage views read';
COMMENT ON COLUMN endpoint_hit.release IS 'Release the hits count towards, X.Y.Z';
COMMENT ON COLUMN endpoint_hit.source IS 'The run (audit_event.source) or the imported coverage file';
COMMENT ON COLUMN endpoint_hit.endpoint IS 'The operationId hit';
COMMENT ON COLUMN endpoint_hit.test IS 'Test name as in audit_event.test: '''' for an unnamed e2e.test, null for non-test user agents';
COMMENT ON COLUMN endpoint_hit.test_hit IS 'Hits came from an e2e.test user agent';
COMMENT ON COLUMN endpoint_hit.conf_test_hit IS 'Hits came from a [Conformance] user agent';
COMMENT ON COLUMN endpoint_hit.hits IS 'Number of audit events';
COMMENT ON COLUMN endpoint_hit.imported IS 'Imported from published coverage rather than counted from raw events';
