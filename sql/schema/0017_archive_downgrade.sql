-- Downgrade of revision 0017: an archived run has no events in the database, which
-- revision 0016 cannot say; bring such runs back first (`snoopdb runs hot RUN`).
DO $$
DECLARE
  archived text;
BEGIN
  SELECT string_agg(source, ', ' ORDER BY run) INTO archived
  FROM audit_run WHERE state = 'archived';
  IF archived IS NOT NULL THEN
    RAISE EXCEPTION 'runs are archived (%): bring them back with `snoopdb runs hot` before downgrading', archived;
  END IF;
END $$;

DROP FUNCTION audit_run_archive(text, text, bigint), audit_run_events_query(bigint),
  archive_setting(), keep_compact_setting(), database_setting(text);
ALTER TABLE audit_run DROP COLUMN archive, DROP COLUMN archive_bytes;
ALTER TABLE audit_run DROP CONSTRAINT audit_run_state;
ALTER TABLE audit_run ADD CONSTRAINT audit_run_state
  CHECK (state IN ('hot', 'compact', 'imported', 'loading'));
COMMENT ON COLUMN audit_run.state IS
  'hot: one row per event, indexed (runs.events_<run>); compact: chunks of 1,000 events (runs.chunks_<run>); imported: published coverage, hits only; loading: first loaded by a transaction not yet committed';
