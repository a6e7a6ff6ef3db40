-- Revision 0016 undone in this database: its search_path, the reader's rights and
-- function. The role stays: it is the cluster's, and other databases may use it.
DROP FUNCTION reader_rows(text);
ALTER DEFAULT PRIVILEGES IN SCHEMA public, conformance, testing, runs, summaries
  REVOKE SELECT ON TABLES FROM snoopdb_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA public, conformance, testing, runs, summaries
  FROM snoopdb_reader;
REVOKE USAGE ON SCHEMA public, conformance, testing, runs, summaries FROM snoopdb_reader;
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I RESET search_path', current_database());
END $$;
