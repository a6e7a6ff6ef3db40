-- Revision 0016: the views by the names apisnoop's talks use, and a role that can only
-- read.
--
-- The database's search_path names the schemas holding the views, for every role
-- that has no search_path of its own: `select count(*) from untested_stable_endpoint`
-- runs unqualified in psql and `snoopdb query`. public comes first, so a name two
-- schemas hold means what it meant to apisnoop: `audit_event` is the CI runs' events
-- (public), the live ones stay `testing.audit_event`. Qualified names work as before.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET search_path = "$user", public, conformance, testing',
                 current_database());
END $$;

-- snoopdb_reader: SELECT on the data, nothing else. A role is the cluster's, not the
-- database's: made once, shared by every snoopdb database of the cluster, never
-- dropped by a downgrade (another database may use it). NOLOGIN: `snoopdb query`
-- becomes it, nobody logs in as it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'snoopdb_reader') THEN
    CREATE ROLE snoopdb_reader NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;  -- made at the same moment by the migration of another database
END $$;

GRANT USAGE ON SCHEMA public, conformance, testing, runs, summaries TO snoopdb_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public, conformance, testing, runs, summaries
  TO snoopdb_reader;
-- the tables loads make from now on (a run's events and summaries), by this role
ALTER DEFAULT PRIVILEGES IN SCHEMA public, conformance, testing, runs, summaries
  GRANT SELECT ON TABLES TO snoopdb_reader;

-- The rows of one statement, run as snoopdb_reader. SECURITY DEFINER owned by the
-- reader: inside it the statement cannot change role (`set_config('role', 'none',
-- true)`, SET SESSION AUTHORIZATION: "cannot set parameter within security-definer
-- function"), which a SET ROLE alone allows, back to a superuser session's own rights.
-- No search_path of its own: the caller's names resolve as the caller's would, and a
-- definer with no rights to lend gains nothing from them. Each row is the text of
-- its record (record_out): one result type for any statement, the client reads the
-- columns by the types the statement's description gives. The caller runs it in a
-- read-only transaction (`snoopdb query`), so nothing it calls can write either.
CREATE FUNCTION reader_rows(statement text) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  found record;
BEGIN
  FOR found IN EXECUTE statement LOOP
    RETURN NEXT found::text;
  END LOOP;
END $$;
ALTER FUNCTION reader_rows(text) OWNER TO snoopdb_reader;
REVOKE ALL ON FUNCTION reader_rows(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reader_rows(text) TO snoopdb_reader;
COMMENT ON FUNCTION reader_rows(text) IS
  'The rows of one statement (each the text of its record), run as snoopdb_reader, which '
  'can only read and, inside this function, cannot change role: what `snoopdb query` runs.';
