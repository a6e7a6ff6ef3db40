-- endpoint_body_hit as it was a table until revision 0010, read from the per-run
-- partitions of run_body_hit.

CREATE VIEW endpoint_body_hit AS
SELECT r.release,
       r.source,
       h.endpoint,
       t.name AS test,
       h.test_hit,
       h.conf_test_hit,
       h.bodies
FROM run_body_hit h
JOIN audit_run r ON r.run = h.run
LEFT JOIN run_test t ON t.run = h.run AND t.test = h.test;

COMMENT ON VIEW endpoint_body_hit IS
  'Audit events that carried a request body (requestObject), per (release, run, endpoint, test, user-agent class)';
COMMENT ON COLUMN endpoint_body_hit.release IS 'Release the run counts towards, X.Y.Z';
COMMENT ON COLUMN endpoint_body_hit.source IS 'The run (audit_event.source)';
COMMENT ON COLUMN endpoint_body_hit.endpoint IS 'The operationId';
COMMENT ON COLUMN endpoint_body_hit.test IS 'Test name as in audit_event.test';
COMMENT ON COLUMN endpoint_body_hit.test_hit IS 'Bodies came from an e2e.test user agent';
COMMENT ON COLUMN endpoint_body_hit.conf_test_hit IS 'Bodies came from a [Conformance] user agent';
COMMENT ON COLUMN endpoint_body_hit.bodies IS 'Number of events with a request body';
