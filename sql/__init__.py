"""SQL shipped with snoopdb: schema files run by migrations."""
