-- Live events found by auditID within their source (revision 0018). The API server
-- resends a batch whose 200 it did not receive; the auditlogger stores only the events
-- of a batch that its source has not stored yet (same auditID and stage), and reads
-- which those are through this index, whatever the size of testing.audit_event.
CREATE INDEX audit_event_source_audit_id ON testing.audit_event (source, audit_id);
COMMENT ON INDEX testing.audit_event_source_audit_id IS
  'The auditlogger''s look-up of a batch''s auditIDs already stored from its source (a resent batch is stored once)';
