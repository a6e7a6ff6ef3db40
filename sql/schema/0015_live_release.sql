-- Revision 0015: live events are mapped and tallied against the newest loaded spec
-- (loaders/live.py), whatever coverage data it has; testing.field_hit says so.

COMMENT ON COLUMN testing.field_hit.field IS
  'Field path, or the path of a field the body schema of the newest loaded spec (the release live events are mapped against) does not have';
COMMENT ON COLUMN testing.field_hit.known IS
  'The field is in the endpoint''s body schema of the newest loaded spec';
