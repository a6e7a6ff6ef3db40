-- The ticket's request-body fields: those the live test (%(useragent)s) set that
-- no conformance test of the latest release sets (known = in the schema), and
-- the paths it set that the schema lacks; with the bodies it sent.
SELECT endpoint, field, known, hit_by_ete, hit_by_new_test
FROM testing.field_hit_by_new_test
WHERE useragent = %(useragent)s AND (NOT known OR NOT hit_by_conformance)
ORDER BY endpoint, known DESC, field;
