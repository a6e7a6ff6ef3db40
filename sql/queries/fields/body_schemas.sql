-- The body fields of a release (%(release)s), each definition's parents first:
-- what a FieldTally walks request bodies against.
SELECT s.definition, f.field, f.parent, f.name, f.type, f.recursion
FROM body_schema s
JOIN body_field f ON f.digest = s.digest
WHERE s.release = %(release)s
ORDER BY s.definition, f.position
