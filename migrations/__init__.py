"""Alembic migrations of the snoopdb schema; `snoopdb init` upgrades to head."""
