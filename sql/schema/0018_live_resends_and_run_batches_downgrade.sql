-- Downgrade of revision 0018.
DROP INDEX testing.audit_event_source_audit_id;
DROP FUNCTION audit_runs_drop(text[]);
-- revision 0010's audit_run_swap_events
CREATE OR REPLACE FUNCTION audit_run_swap_events(id bigint, fresh_table text, new_state text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  final text := CASE new_state WHEN 'hot' THEN 'events_' ELSE 'chunks_' END || id;
BEGIN
  PERFORM audit_event_rebuild(id);
  EXECUTE format('DROP TABLE IF EXISTS runs.%I, runs.%I', 'events_' || id, 'chunks_' || id);
  EXECUTE format('ALTER TABLE runs.%I RENAME TO %I', fresh_table, final);
  IF new_state = 'hot' THEN
    PERFORM audit_run_index(id);
  ELSE
    EXECUTE format('ALTER TABLE runs.%I ADD CONSTRAINT %I PRIMARY KEY (first)',
                   final, final || '_pkey');
  END IF;
  UPDATE audit_run SET state = new_state WHERE run = id AND state IS DISTINCT FROM new_state;
  PERFORM audit_event_rebuild();
END
$$;
