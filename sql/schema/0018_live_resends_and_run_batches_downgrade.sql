-- Downgrade of revision 0018.
DROP INDEX testing.audit_event_source_audit_id;
DROP FUNCTION audit_runs_drop(text[]);
