-- Revision 0014 undone: the btree on (useragent, endpoint) as revision 0009 made it.

DROP INDEX testing.field_hit_useragent;
CREATE INDEX field_hit_useragent ON testing.field_hit (useragent, endpoint);
