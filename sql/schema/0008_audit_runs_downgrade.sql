-- Downgrade of revision 0008: audit_event back to one plain table (revision 0001's
-- definition), every loaded run's events moved into it in run and event order.

CREATE TABLE audit_event_0006 (
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
INSERT INTO audit_event_0006 (release, release_date, audit_id, endpoint, useragent, test,
                              test_hit, conf_test_hit, data, source, ingested_at, error)
SELECT release, release_date, audit_id, endpoint, useragent, test, test_hit, conf_test_hit,
       data, source, ingested_at, error
FROM audit_event ORDER BY id;

DROP VIEW audit_event;
DROP FUNCTION audit_run_publish(bigint, text, text, bigint), audit_run_prepare(text, text),
  audit_run_detach(bigint), audit_run_lock(text), audit_run_drop(text),
  audit_run_import(regclass), endpoint_hit_merge(text);
DROP TABLE audit_chunk, audit_run;
DROP SCHEMA runs;

ALTER TABLE audit_event_0006 RENAME TO audit_event;
ALTER TABLE audit_event RENAME CONSTRAINT audit_event_0006_pkey TO audit_event_pkey;
ALTER SEQUENCE audit_event_0006_id_seq RENAME TO audit_event_id_seq;
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
