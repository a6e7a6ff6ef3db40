-- DuckDB: a run's Parquet file ($file) back as the rows of its hot events table
-- (db/run_store.EVENT_COLUMNS), in CSV as PostgreSQL's COPY reads it ({rows}: a FIFO):
-- the event's position is the low 40 bits of its id.
COPY (
  SELECT id & 1099511627775 AS n, audit_id, endpoint, error, useragent, test, test_hit,
         conf_test_hit, data
  FROM read_parquet($file)
) TO {rows} (FORMAT csv, HEADER false)
