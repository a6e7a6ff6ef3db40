-- `snoopdb releases drop` after drop_runs.sql, in its transaction: everything else of
-- release %(release)s. Run with client-side binding (several statements).
-- (Its runs and imported coverage, with their hits and field tallies, went with
-- drop_runs.sql.)
-- Its spec and body schemas; field trees no other release points at.
DELETE FROM open_api WHERE release = %(release)s;
DELETE FROM endpoint_body WHERE release = %(release)s;
CREATE TEMPORARY TABLE dropped_digest ON COMMIT DROP AS
  SELECT DISTINCT digest FROM body_schema WHERE release = %(release)s;
DELETE FROM body_schema WHERE release = %(release)s;
DELETE FROM body_field f USING dropped_digest d
WHERE f.digest = d.digest AND NOT EXISTS (SELECT FROM body_schema s WHERE s.digest = f.digest);
-- The conformance tests, ineligible and pending endpoints, when the lists in use are
-- the ones loaded for this release (conformance.yaml keeps historical tests: they
-- stay).
DELETE FROM conformance.test
WHERE NOT historical
  AND (SELECT release FROM load_log WHERE kind = 'conformance' ORDER BY id DESC LIMIT 1)
      = %(release)s;
DELETE FROM conformance.ineligible_endpoint
WHERE (SELECT release FROM load_log WHERE kind = 'ineligible' ORDER BY id DESC LIMIT 1)
      = %(release)s;
DELETE FROM conformance.pending_eligible_endpoint
WHERE (SELECT release FROM load_log WHERE kind = 'pending' ORDER BY id DESC LIMIT 1)
      = %(release)s;
-- Its conformance list for certification submissions.
DELETE FROM conformance.release_test WHERE release = %(release)s;
