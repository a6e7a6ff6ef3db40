-- Version 4 (revision 0010): the per-release summaries are partitioned by release, and
-- a load rewrites only its release's partitions: refresh_release_coverage(release),
-- in the load's transaction. Each partition is dropped and written afresh (no row is
-- deleted or updated, so none is left dead), then analyzed: without statistics the
-- planner nests loops over the field summary's rows. endpoint_test_hit and
-- conformance.eligible_endpoint_coverage, which read the newest release's coverage,
-- are refreshed after; both are small. refresh_coverage() rewrites every release.

-- The partition of summary table `summary` that holds `release`: summaries.<summary>_1_36_0.
CREATE FUNCTION release_partition(summary text, release text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT summary || '_' || CASE WHEN release ~ '^[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,9}$'
                                THEN translate(release, '.', '_')
                                ELSE md5(release) END
$$;
COMMENT ON FUNCTION release_partition(text, text) IS
  'Name of the partition (schema summaries) of summary table summary holding release';

CREATE FUNCTION release_summaries_rewrite(rel text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  runs text;
  summary record;
  part text;
BEGIN
  SELECT string_agg(run::text, ', ' ORDER BY run) INTO runs FROM public.audit_run WHERE release = rel;
  FOR summary IN SELECT * FROM (VALUES
    ('release_endpoint_hit', $q$
      SELECT %1$L, h.endpoint, bool_or(h.test_hit), bool_or(h.conf_test_hit),
             coalesce(array_agg(DISTINCT t.name ORDER BY t.name)
                        FILTER (WHERE t.name IS NOT NULL), '{}')
      FROM public.run_hit h
      LEFT JOIN public.run_test t ON t.run = h.run AND t.test = h.test
      WHERE h.run IN (%2$s)
      GROUP BY h.endpoint$q$),
    ('release_test_hit', $q$
      SELECT DISTINCT %1$L, t.name FROM public.run_test t WHERE t.run IN (%2$s)$q$),
    ('release_field_hit', $q$
      SELECT %1$L, h.endpoint, h.field, h.known, bool_or(h.test_hit), bool_or(h.conf_test_hit),
             coalesce(array_agg(DISTINCT t.name ORDER BY t.name)
                        FILTER (WHERE t.name IS NOT NULL), '{}'),
             sum(h.hits)::bigint
      FROM public.run_field_hit h
      LEFT JOIN public.run_test t ON t.run = h.run AND t.test = h.test
      WHERE h.run IN (%2$s)
      GROUP BY h.endpoint, h.field, h.known$q$),
    ('release_body_hit', $q$
      SELECT %1$L, endpoint, sum(bodies)::bigint,
             (sum(bodies) FILTER (WHERE test_hit))::bigint,
             (sum(bodies) FILTER (WHERE conf_test_hit))::bigint
      FROM public.run_body_hit
      WHERE run IN (%2$s)
      GROUP BY endpoint$q$)) AS s(name, query)
  LOOP
    part := public.release_partition(summary.name, rel);
    EXECUTE format('DROP TABLE IF EXISTS summaries.%I', part);
    CONTINUE WHEN runs IS NULL;
    EXECUTE format('CREATE TABLE summaries.%I PARTITION OF public.%I FOR VALUES IN (%L)',
                   part, summary.name, rel);
    EXECUTE format('INSERT INTO summaries.%I ', part) || format(summary.query, rel, runs);
    EXECUTE format('ANALYZE summaries.%I', part);
  END LOOP;
END
$$;
COMMENT ON FUNCTION release_summaries_rewrite(text) IS
  'Write release rel''s partitions of the per-release summaries afresh from its runs (none when it has no runs)';

CREATE FUNCTION refresh_release_coverage(VARIADIC rels text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  rel text;
BEGIN
  PERFORM public.coverage_lock();
  FOREACH rel IN ARRAY rels LOOP
    PERFORM public.release_summaries_rewrite(rel);
  END LOOP;
  REFRESH MATERIALIZED VIEW public.endpoint_test_hit;
  REFRESH MATERIALIZED VIEW conformance.eligible_endpoint_coverage;
END
$$;
COMMENT ON FUNCTION refresh_release_coverage(text[]) IS
  'Recompute the coverage summaries of releases rels and what reads the newest release''s coverage; call after every load or drop of their runs';

CREATE OR REPLACE FUNCTION refresh_coverage() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  rel text;
BEGIN
  PERFORM public.coverage_lock();
  FOR rel IN
    SELECT release FROM public.audit_run
    UNION
    SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), $r$IN \('(.*)'\)$r$))[1]
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'public.release_endpoint_hit'::regclass
  LOOP
    PERFORM public.release_summaries_rewrite(rel);
  END LOOP;
  REFRESH MATERIALIZED VIEW public.endpoint_test_hit;
  REFRESH MATERIALIZED VIEW conformance.eligible_endpoint_coverage;
END
$$;
COMMENT ON FUNCTION refresh_coverage() IS
  'Recompute every release''s coverage summaries (loads call refresh_release_coverage for theirs)';
