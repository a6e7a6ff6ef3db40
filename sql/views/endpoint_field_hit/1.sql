-- endpoint_field_hit as it was a table until revision 0010, read from the per-run
-- partitions of run_field_hit.

CREATE VIEW endpoint_field_hit AS
SELECT r.release,
       r.source,
       h.endpoint,
       h.field,
       h.known,
       t.name AS test,
       h.test_hit,
       h.conf_test_hit,
       h.hits
FROM run_field_hit h
JOIN audit_run r ON r.run = h.run
LEFT JOIN run_test t ON t.run = h.run AND t.test = h.test;

COMMENT ON VIEW endpoint_field_hit IS
  'Request bodies that set a field, per (release, run, endpoint, field, test, user-agent class)';
COMMENT ON COLUMN endpoint_field_hit.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN endpoint_field_hit.source IS 'The run (audit_event.source)';
COMMENT ON COLUMN endpoint_field_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_field_hit.field IS 'Field path (body_field.field), or the path of a field the schema does not have';
COMMENT ON COLUMN endpoint_field_hit.known IS 'The field is in the endpoint''s body schema of the release; false: unknown to it';
COMMENT ON COLUMN endpoint_field_hit.test IS 'Test name as in audit_event.test';
COMMENT ON COLUMN endpoint_field_hit.test_hit IS 'Bodies came from an e2e.test user agent';
COMMENT ON COLUMN endpoint_field_hit.conf_test_hit IS 'Bodies came from a [Conformance] user agent';
COMMENT ON COLUMN endpoint_field_hit.hits IS 'Number of request bodies that set the field';
