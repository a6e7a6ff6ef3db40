-- Revision 0014: testing.field_hit's user agents indexed by their hash. A btree
-- holds the whole key, and a live user agent carries a test name of any length:
-- past ~2.7 KB of incompressible text the row no longer fits an index page and the
-- auditlogger's whole batch failed. The ticket and field_hit_by_new_test look one
-- user agent up by equality, which a hash index answers whatever its length.

DROP INDEX testing.field_hit_useragent;
CREATE INDEX field_hit_useragent ON testing.field_hit USING hash (useragent);
