-- Back to revision 0020: audit_event a view with one UNION ALL branch per run again,
-- written by revision 0010's audit_event_rebuild(); the runs' tables detached and their
-- added columns (kept in the catalog only) dropped.
CREATE OR REPLACE FUNCTION audit_event_rebuild(except_run bigint DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  body text;
BEGIN
  SELECT string_agg(CASE r.state
    WHEN 'hot' THEN format(
      'SELECT %L::text AS release, %L::text AS release_date, e.audit_id, e.endpoint,'
      ' e.useragent, e.test, e.test_hit, e.conf_test_hit, e.data, %L::text AS source,'
      ' (%s::bigint << 40) + e.n AS id, %L::timestamp AS ingested_at, e.error'
      ' FROM runs.%I e',
      r.release, r.release_date, r.source, r.run, r.loaded_at, 'events_' || r.run)
    ELSE format(
      'SELECT %L::text AS release, %L::text AS release_date, (e.v).audit_id,'
      ' (e.v).endpoint, (e.v).useragent, (e.v).test, (e.v).test_hit, (e.v).conf_test_hit,'
      ' d.data, %L::text AS source, (%s::bigint << 40) + e.n AS id,'
      ' %L::timestamp AS ingested_at, (e.v).error'
      ' FROM runs.%I c'
      ' CROSS JOIN LATERAL (SELECT generate_series(c.first, c.first + c.events - 1) AS n,'
      '                            unnest(c.ev) AS v) e'
      ' LEFT JOIN LATERAL (SELECT DISTINCT ON (x.n) x.n, x.data'
      '                    FROM (SELECT generate_series(c.first, c.first + c.events - 1) AS n,'
      '                                 unnest(c.data) AS data) x) d ON d.n = e.n',
      r.release, r.release_date, r.source, r.run, r.loaded_at, 'chunks_' || r.run)
    END, E'\nUNION ALL\n' ORDER BY r.run)
  INTO body
  FROM audit_run r
  WHERE r.state IN ('hot', 'compact') AND r.run IS DISTINCT FROM except_run;
  EXECUTE 'CREATE OR REPLACE VIEW public.audit_event AS ' || coalesce(body,
    'SELECT NULL::text AS release, NULL::text AS release_date, NULL::text AS audit_id,'
    ' NULL::text AS endpoint, NULL::text AS useragent, NULL::text AS test,'
    ' NULL::boolean AS test_hit, NULL::boolean AS conf_test_hit, NULL::jsonb AS data,'
    ' NULL::text AS source, NULL::bigint AS id, NULL::timestamp AS ingested_at,'
    ' NULL::text AS error WHERE false');
END
$$;
COMMENT ON FUNCTION audit_event_rebuild(bigint) IS
  'Write the audit_event view: one branch per hot or compact run (leaving out run except_run)';
SELECT audit_event_rebuild();
COMMENT ON VIEW audit_event IS
  'One row per audit event of a CI run, mapped to its endpoint: a branch per run (hot: runs.events_<run>; compact: runs.chunks_<run>)';

DO $$
DECLARE
  p record;
BEGIN
  FOR p IN
    SELECT parent.relname AS parent, part.relname AS part, part.relkind AS kind
    FROM pg_inherits i
    JOIN pg_class parent ON parent.oid = i.inhparent
    JOIN pg_class part ON part.oid = i.inhrelid
    JOIN pg_inherits top ON top.inhrelid = parent.oid
    WHERE top.inhparent IN ('runs.events'::regclass, 'runs.chunks'::regclass)
  LOOP
    EXECUTE format('ALTER TABLE runs.%I DETACH PARTITION runs.%I', p.parent, p.part);
    EXECUTE format('ALTER TABLE runs.%I DROP COLUMN run, DROP COLUMN release,'
                   ' DROP COLUMN release_date, DROP COLUMN source, DROP COLUMN ingested_at',
                   p.part);
  END LOOP;
END
$$;
DROP TABLE runs.events, runs.chunks;  -- with their release parts, now empty
DROP FUNCTION audit_event_partition(bigint);
