-- The body fields of a release (%(release)s), each definition's parents first:
-- what a FieldTally walks request bodies against.
SELECT definition, field, parent, name, type, recursion
FROM body_field
WHERE release = %(release)s
ORDER BY definition, position
