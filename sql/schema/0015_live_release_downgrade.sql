-- Revision 0015 undone: testing.field_hit's comments as revision 0009 wrote them.

COMMENT ON COLUMN testing.field_hit.field IS 'Field path, or the path of a field the latest release''s schema does not have';
COMMENT ON COLUMN testing.field_hit.known IS 'The field is in the endpoint''s body schema';
