-- History (revision 0006): apisnoop's published per-release coverage files stand in
-- for the CI logs of past releases, long gone from the buckets. An import fills
-- endpoint_hit (imported = true), open_api where the release's spec is not loaded,
-- and conformance.test with the tests conformance.yaml no longer lists (historical).

-- Marks the rows a re-import may replace; a spec loaded later replaces the release
-- whole (loaders/spec.py deletes by release).
ALTER TABLE open_api ADD COLUMN imported boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN open_api.imported IS
  'Taken from a published coverage file (its non-deprecated endpoints only) because the release''s spec is not loaded';

COMMENT ON COLUMN endpoint_hit.hits IS
  'Number of audit events; 0 for imported rows (published files carry no counts)';
