-- Version 6 (revision 0019): a release's summaries also hold its depth: the query
-- parameters (and behaviour-selecting values) its events named (release_param_hit)
-- and the status codes they were answered with (release_status_hit), merged from the
-- runs' run_param_hit and run_status_hit. The rest is version 5's.

-- work_mem for the time of the function: the aggregates over every run of a release
-- sort a few hundred thousand rows, which spill to disk at the default 4 MB.
CREATE OR REPLACE FUNCTION release_summaries_rewrite(rel text) RETURNS void
LANGUAGE plpgsql SET work_mem = '128MB' AS $$
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
      GROUP BY endpoint$q$),
    ('release_param_hit', $q$
      SELECT %1$L, h.endpoint, h.parameter, h.value, sum(h.hits)::bigint,
             coalesce(sum(h.hits) FILTER (WHERE h.test_hit), 0)::bigint,
             coalesce(sum(h.hits) FILTER (WHERE h.conf_test_hit), 0)::bigint,
             coalesce(array_agg(DISTINCT t.name ORDER BY t.name)
                        FILTER (WHERE t.name IS NOT NULL), '{}')
      FROM public.run_param_hit h
      LEFT JOIN public.run_test t ON t.run = h.run AND t.test = h.test
      WHERE h.run IN (%2$s)
      GROUP BY h.endpoint, h.parameter, h.value$q$),
    ('release_status_hit', $q$
      SELECT %1$L, h.endpoint, h.code, sum(h.hits)::bigint,
             coalesce(sum(h.hits) FILTER (WHERE h.test_hit), 0)::bigint,
             coalesce(sum(h.hits) FILTER (WHERE h.conf_test_hit), 0)::bigint,
             coalesce(array_agg(DISTINCT t.name ORDER BY t.name)
                        FILTER (WHERE t.name IS NOT NULL), '{}')
      FROM public.run_status_hit h
      LEFT JOIN public.run_test t ON t.run = h.run AND t.test = h.test
      WHERE h.run IN (%2$s)
      GROUP BY h.endpoint, h.code$q$),
    ('release_run_hit', $q$
      SELECT %1$L, run, endpoint, bool_or(test_hit), bool_or(conf_test_hit)
      FROM public.run_hit
      WHERE run IN (%2$s)
      GROUP BY run, endpoint$q$),
    -- per job, each test's runs and the runs in which it hit each endpoint; test names
    -- numbered once for all runs first, so that the aggregate over every run's rows
    -- groups numbers, not names
    ('release_test_endpoint_hit', $q$
      WITH name AS MATERIALIZED (
        SELECT name, row_number() OVER () AS id
        FROM (SELECT DISTINCT name FROM public.run_test WHERE run IN (%2$s)) AS distinct_name
      ), ran AS MATERIALIZED (
        SELECT t.run, t.test, r.job, n.id
        FROM public.run_test t
        JOIN public.audit_run r ON r.run = t.run
        JOIN name n ON n.name = t.name
        WHERE t.run IN (%2$s)
      ), hit AS (
        SELECT ran.job, ran.id, h.endpoint, count(DISTINCT h.run)::integer AS runs
        FROM public.run_hit h
        JOIN ran ON ran.run = h.run AND ran.test = h.test
        WHERE h.run IN (%2$s)
        GROUP BY ran.job, ran.id, h.endpoint
      ), runs_ran AS (
        SELECT job, id, count(*)::integer AS runs FROM ran GROUP BY job, id
      )
      SELECT %1$L, hit.job, n.name, hit.endpoint, runs_ran.runs, hit.runs
      FROM hit
      JOIN runs_ran USING (job, id)
      JOIN name n USING (id)$q$)) AS s(name, query)
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

-- A load that adds a run to a release (not a reload, not a drop) need not re-aggregate
-- every run of the release: each summary's partition is written afresh as its old rows
-- merged with the new run's, a cost that grows with the summary and the run, not with
-- the number of runs. The result is the rewrite's (tests/test_run_history.py checks it).
CREATE OR REPLACE FUNCTION add_run_coverage(added bigint) RETURNS void
LANGUAGE plpgsql SET work_mem = '128MB' AS $$
DECLARE
  rel text;
  summary record;
  part text;
BEGIN
  PERFORM public.coverage_lock();
  SELECT release INTO rel FROM public.audit_run WHERE run = added;
  IF to_regclass(format('summaries.%I', public.release_partition('release_endpoint_hit', rel)))
     IS NULL THEN
    PERFORM public.refresh_release_coverage(rel);
    RETURN;
  END IF;
  FOR summary IN SELECT * FROM (VALUES
    ('release_endpoint_hit', $q$
      SELECT %1$L, x.endpoint, bool_or(x.tested), bool_or(x.conf_tested),
             coalesce(array_agg(DISTINCT x.name ORDER BY x.name)
                        FILTER (WHERE x.name IS NOT NULL), '{}')
      FROM (SELECT o.endpoint, o.tested, o.conf_tested, n.name
            FROM summaries.%3$I o LEFT JOIN LATERAL unnest(o.tests) AS n(name) ON true
            UNION ALL
            SELECT h.endpoint, h.test_hit, h.conf_test_hit, t.name
            FROM public.run_hit h
            LEFT JOIN public.run_test t ON t.run = h.run AND t.test = h.test
            WHERE h.run = %2$s) x
      GROUP BY x.endpoint$q$),
    ('release_test_hit', $q$
      SELECT %1$L, x.name
      FROM (SELECT test AS name FROM summaries.%3$I
            UNION SELECT name FROM public.run_test WHERE run = %2$s) x$q$),
    ('release_field_hit', $q$
      SELECT %1$L, x.endpoint, x.field, x.known, bool_or(x.tested), bool_or(x.conf_tested),
             coalesce(array_agg(DISTINCT x.name ORDER BY x.name)
                        FILTER (WHERE x.name IS NOT NULL), '{}'),
             sum(x.hits)::bigint
      FROM (SELECT o.endpoint, o.field, o.known, o.tested, o.conf_tested, n.name,
                   CASE WHEN n.position IS NULL OR n.position = 1 THEN o.hits ELSE 0 END AS hits
            FROM summaries.%3$I o
            LEFT JOIN LATERAL unnest(o.tests) WITH ORDINALITY AS n(name, position) ON true
            UNION ALL
            SELECT h.endpoint, h.field, h.known, h.test_hit, h.conf_test_hit, t.name, h.hits
            FROM public.run_field_hit h
            LEFT JOIN public.run_test t ON t.run = h.run AND t.test = h.test
            WHERE h.run = %2$s) x
      GROUP BY x.endpoint, x.field, x.known$q$),
    ('release_body_hit', $q$
      SELECT %1$L, x.endpoint, sum(x.bodies)::bigint, sum(x.test_bodies)::bigint,
             sum(x.conf_bodies)::bigint
      FROM (SELECT endpoint, bodies, test_bodies, conf_bodies FROM summaries.%3$I
            UNION ALL
            SELECT endpoint, bodies, CASE WHEN test_hit THEN bodies END,
                   CASE WHEN conf_test_hit THEN bodies END
            FROM public.run_body_hit WHERE run = %2$s) x
      GROUP BY x.endpoint$q$),
    -- old rows and the new run's, summed; the test lists united apart (arrays of
    -- different lengths cannot be aggregated into one)
    ('release_param_hit', $q$
      WITH x AS MATERIALIZED (
        SELECT endpoint, parameter, value, hits, test_hits, conf_hits, tests
        FROM summaries.%3$I
        UNION ALL
        SELECT h.endpoint, h.parameter, h.value, sum(h.hits),
               coalesce(sum(h.hits) FILTER (WHERE h.test_hit), 0),
               coalesce(sum(h.hits) FILTER (WHERE h.conf_test_hit), 0),
               coalesce(array_agg(DISTINCT t.name) FILTER (WHERE t.name IS NOT NULL), '{}')
        FROM public.run_param_hit h
        LEFT JOIN public.run_test t ON t.run = h.run AND t.test = h.test
        WHERE h.run = %2$s
        GROUP BY h.endpoint, h.parameter, h.value
      ), names AS (
        SELECT endpoint, parameter, value, array_agg(DISTINCT n ORDER BY n) AS tests
        FROM x CROSS JOIN LATERAL unnest(x.tests) AS n
        GROUP BY endpoint, parameter, value
      )
      SELECT %1$L, c.endpoint, c.parameter, c.value, c.hits, c.test_hits, c.conf_hits,
             coalesce(n.tests, '{}')
      FROM (SELECT endpoint, parameter, value, sum(hits)::bigint AS hits,
                   sum(test_hits)::bigint AS test_hits, sum(conf_hits)::bigint AS conf_hits
            FROM x GROUP BY endpoint, parameter, value) c
      LEFT JOIN names n ON n.endpoint = c.endpoint AND n.parameter = c.parameter
                       AND n.value IS NOT DISTINCT FROM c.value$q$),
    ('release_status_hit', $q$
      WITH x AS MATERIALIZED (
        SELECT endpoint, code, hits, test_hits, conf_hits, tests
        FROM summaries.%3$I
        UNION ALL
        SELECT h.endpoint, h.code, sum(h.hits),
               coalesce(sum(h.hits) FILTER (WHERE h.test_hit), 0),
               coalesce(sum(h.hits) FILTER (WHERE h.conf_test_hit), 0),
               coalesce(array_agg(DISTINCT t.name) FILTER (WHERE t.name IS NOT NULL), '{}')
        FROM public.run_status_hit h
        LEFT JOIN public.run_test t ON t.run = h.run AND t.test = h.test
        WHERE h.run = %2$s
        GROUP BY h.endpoint, h.code
      ), names AS (
        SELECT endpoint, code, array_agg(DISTINCT n ORDER BY n) AS tests
        FROM x CROSS JOIN LATERAL unnest(x.tests) AS n
        GROUP BY endpoint, code
      )
      SELECT %1$L, c.endpoint, c.code, c.hits, c.test_hits, c.conf_hits, coalesce(n.tests, '{}')
      FROM (SELECT endpoint, code, sum(hits)::bigint AS hits, sum(test_hits)::bigint AS test_hits,
                   sum(conf_hits)::bigint AS conf_hits
            FROM x GROUP BY endpoint, code) c
      LEFT JOIN names n ON n.endpoint = c.endpoint AND n.code = c.code$q$),
    ('release_run_hit', $q$
      SELECT release, run, endpoint, tested, conf_tested FROM summaries.%3$I
      UNION ALL
      SELECT %1$L, run, endpoint, bool_or(test_hit), bool_or(conf_test_hit)
      FROM public.run_hit WHERE run = %2$s GROUP BY run, endpoint$q$),
    -- the new run's job: each test that ran in it ran once more, each pair it hit was
    -- hit once more; a pair hit for the first time starts from the test's runs before
    ('release_test_endpoint_hit', $q$
      WITH job AS MATERIALIZED (
        SELECT job FROM public.audit_run WHERE run = %2$s
      ), ran AS MATERIALIZED (
        SELECT name FROM public.run_test WHERE run = %2$s
      ), hit AS MATERIALIZED (
        SELECT DISTINCT t.name, h.endpoint
        FROM public.run_hit h JOIN public.run_test t ON t.run = h.run AND t.test = h.test
        WHERE h.run = %2$s
      ), before AS (
        SELECT o.test, max(o.runs_test_ran) AS runs
        FROM summaries.%3$I o WHERE o.job = (SELECT job FROM job) GROUP BY o.test
      )
      SELECT %1$L, o.job, o.test, o.endpoint,
             o.runs_test_ran + CASE WHEN o.job = (SELECT job FROM job)
                                         AND o.test IN (SELECT name FROM ran) THEN 1 ELSE 0 END,
             o.runs_hit + CASE WHEN o.job = (SELECT job FROM job)
                                    AND (o.test, o.endpoint) IN (SELECT name, endpoint FROM hit)
                               THEN 1 ELSE 0 END
      FROM summaries.%3$I o
      UNION ALL
      SELECT %1$L, (SELECT job FROM job), h.name, h.endpoint, coalesce(b.runs, 0) + 1, 1
      FROM hit h LEFT JOIN before b ON b.test = h.name
      WHERE NOT EXISTS (SELECT FROM summaries.%3$I o WHERE o.job = (SELECT job FROM job)
                          AND o.test = h.name AND o.endpoint = h.endpoint)$q$)) AS s(name, query)
  LOOP
    part := public.release_partition(summary.name, rel);
    EXECUTE format('CREATE TABLE summaries.%I (LIKE public.%I)', part || '_next', summary.name);
    EXECUTE format('INSERT INTO summaries.%I ', part || '_next')
            || format(summary.query, rel, added, part);
    EXECUTE format('DROP TABLE summaries.%I', part);
    EXECUTE format('ALTER TABLE summaries.%I RENAME TO %I', part || '_next', part);
    EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION summaries.%I FOR VALUES IN (%L)',
                   summary.name, part, rel);
    EXECUTE format('ANALYZE summaries.%I', part);
  END LOOP;
  REFRESH MATERIALIZED VIEW public.endpoint_test_hit;
  REFRESH MATERIALIZED VIEW conformance.eligible_endpoint_coverage;
END
$$;
COMMENT ON FUNCTION add_run_coverage(bigint) IS
  'Add the coverage of run added, newly loaded, to its release''s summaries (the same rows refresh_release_coverage would write)';
