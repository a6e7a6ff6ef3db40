-- endpoint_hit as it was a table until revision 0010: hit counts per (release, run,
-- endpoint, test, user-agent class), now read from the per-run partitions of run_hit
-- with the run's values and its test names joined back.

CREATE VIEW endpoint_hit AS
SELECT r.release,
       r.source,
       h.endpoint,
       t.name AS test,
       h.test_hit,
       h.conf_test_hit,
       h.hits,
       r.state = 'imported' AS imported
FROM run_hit h
JOIN audit_run r ON r.run = h.run
LEFT JOIN run_test t ON t.run = h.run AND t.test = h.test;

COMMENT ON VIEW endpoint_hit IS
  'Hit counts per (release, source, endpoint, test, user-agent class): what the coverage summaries are computed from';
COMMENT ON COLUMN endpoint_hit.release IS 'Release the hits count towards, X.Y.Z';
COMMENT ON COLUMN endpoint_hit.source IS 'The run (audit_event.source) or the imported coverage file';
COMMENT ON COLUMN endpoint_hit.endpoint IS 'The operationId hit';
COMMENT ON COLUMN endpoint_hit.test IS 'Test name as in audit_event.test: '''' for an unnamed e2e.test, null for non-test user agents';
COMMENT ON COLUMN endpoint_hit.test_hit IS 'Hits came from an e2e.test user agent';
COMMENT ON COLUMN endpoint_hit.conf_test_hit IS 'Hits came from a [Conformance] user agent';
COMMENT ON COLUMN endpoint_hit.hits IS
  'Number of audit events; 0 for imported rows (published files carry no counts)';
COMMENT ON COLUMN endpoint_hit.imported IS 'Imported from published coverage rather than counted from raw events';
