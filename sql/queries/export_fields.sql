-- `snoopdb export`: <release>-fields.json, the release's request-body field
-- coverage, as one JSON document (run in export's snapshot). Each body
-- definition's fields are listed once under `definitions`; each endpoint names its
-- definition and lists only the fields its bodies set (a field of the definition
-- not listed there is set by no body), so the file stays a few MB.
-- In a release without coverage data (release_coverage 'no data') which fields tests
-- set is unknown: `coverage` says so and tested_fields, conf_tested_fields are null.
-- Parameter: %(release)s, X.Y.Z.
WITH known AS (
  SELECT coalesce((SELECT coverage <> 'no data' FROM release_coverage
                   WHERE release = %(release)s), false) AS known
)
SELECT json_build_object(
  'release', %(release)s::text,
  'coverage', (SELECT coverage FROM release_coverage WHERE release = %(release)s),
  'definitions', coalesce((
    SELECT json_object_agg(d.definition, d.fields ORDER BY d.definition COLLATE "C")
    FROM (SELECT s.definition,
                 json_agg(json_build_object('field', f.field, 'type', f.type,
                                            'recursion', f.recursion, 'ref', f.ref)
                          ORDER BY f.position) AS fields
          FROM body_schema s
          JOIN body_field f ON f.digest = s.digest
          WHERE s.release = %(release)s
            AND s.definition IN (SELECT c.definition FROM field_coverage_summary c
                                 WHERE c.release = %(release)s)
          GROUP BY s.definition) d), '{}'::json),
  'endpoints', coalesce((
    SELECT json_agg(json_build_object(
             'endpoint', s.endpoint, 'definition', s.definition, 'how', s.how,
             'fields', s.fields,
             'tested_fields', CASE WHEN (SELECT known FROM known) THEN s.tested_fields END,
             'conf_tested_fields', CASE WHEN (SELECT known FROM known) THEN s.conf_tested_fields
                                   END,
             'observed_bodies', s.observed_bodies, 'unknown_fields', s.unknown_fields,
             'set', coalesce((
               SELECT json_agg(json_build_object('field', h.field, 'tested', h.tested,
                                                 'conf_tested', h.conf_tested,
                                                 'tests', h.tests, 'bodies', h.hits)
                               ORDER BY h.field COLLATE "C")
               FROM release_field_hit h
               WHERE h.release = s.release AND h.endpoint = s.endpoint AND h.known), '[]'::json),
             'unknown', coalesce((
               SELECT json_agg(json_build_object('field', u.field, 'tests', u.tests,
                                                 'bodies', u.hits)
                               ORDER BY u.field COLLATE "C")
               FROM endpoint_unknown_field u
               WHERE u.release = s.release AND u.endpoint = s.endpoint), '[]'::json))
           ORDER BY s.endpoint COLLATE "C")
    FROM field_coverage_summary s
    WHERE s.release = %(release)s), '[]'::json)
);
