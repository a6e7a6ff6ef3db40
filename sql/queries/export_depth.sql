-- `snoopdb export`: depth.json, how deeply the tests of one release exercise its
-- endpoints, as one JSON document (run in export's snapshot): per endpoint its
-- endpoint_depth row (deprecated endpoints aside, as in every exported file) with its
-- query parameters (endpoint_parameter_coverage), the
-- values of those that select behaviour (endpoint_parameter_value) and its status
-- codes (endpoint_status_coverage); how many stable eligible endpoints are in each
-- depth class; and the calls conformance tests make to alpha and beta operations
-- (conformance.non_ga_call). In a release without events the depth is unknown:
-- `depth` and the counts are null, the lists empty.
-- Parameter: %(release)s, X.Y.Z.
SELECT json_build_object(
  'release', %(release)s::text,
  'coverage', (SELECT coverage FROM release_coverage WHERE release = %(release)s),
  'classes', coalesce((
    SELECT json_object_agg(c.depth, c.endpoints ORDER BY c.depth)
    FROM (SELECT coalesce(d.depth, 'no data') AS depth, count(*) AS endpoints
          FROM endpoint_depth d
          WHERE d.release = %(release)s AND d.eligible
          GROUP BY 1) c), '{}'::json),
  'endpoints', coalesce((
    SELECT json_agg(json_build_object(
             'endpoint', d.endpoint, 'level', d.level, 'eligible', d.eligible,
             'conf_tested', d.conf_tested, 'depth', d.depth,
             'params_declared', d.params_declared, 'params_conf_hit', d.params_conf_hit,
             'codes_conf_seen', d.codes_conf_seen,
             'error_codes_conf_seen', d.error_codes_conf_seen,
             'fields_declared', d.fields_declared, 'fields_conf_set', d.fields_conf_set,
             'parameters', coalesce((
               SELECT json_agg(json_build_object(
                        'parameter', p.parameter, 'location', p.location,
                        'required', p.required, 'hits', p.hits, 'test_hits', p.test_hits,
                        'conf_hits', p.conf_hits, 'tests', p.tests)
                      ORDER BY p.location IS NULL, p.parameter COLLATE "C")
               FROM endpoint_parameter_coverage p
               WHERE p.release = d.release AND p.endpoint = d.endpoint), '[]'::json),
             'values', coalesce((
               SELECT json_agg(json_build_object(
                        'parameter', v.parameter, 'value', v.value, 'hits', v.hits,
                        'conf_hits', v.conf_hits)
                      ORDER BY v.parameter COLLATE "C", v.value COLLATE "C")
               FROM endpoint_parameter_value v
               WHERE v.release = d.release AND v.endpoint = d.endpoint), '[]'::json),
             'codes', coalesce((
               SELECT json_agg(json_build_object(
                        'code', s.code, 'declared', s.declared, 'hits', s.hits,
                        'conf_hits', s.conf_hits)
                      ORDER BY s.code)
               FROM endpoint_status_coverage s
               WHERE s.release = d.release AND s.endpoint = d.endpoint), '[]'::json))
           ORDER BY d.endpoint COLLATE "C")
    FROM endpoint_depth d
    JOIN open_api o ON o.release = d.release AND o.endpoint = d.endpoint
    WHERE d.release = %(release)s AND NOT o.deprecated), '[]'::json),
  'non_ga_calls', coalesce((
    SELECT json_agg(json_build_object('test', n.test, 'endpoint', n.endpoint,
                                      'level', n.level, 'hits', n.hits)
                    ORDER BY n.test COLLATE "C", n.endpoint COLLATE "C")
    FROM conformance.non_ga_call n
    WHERE n.release = %(release)s), '[]'::json)
);
