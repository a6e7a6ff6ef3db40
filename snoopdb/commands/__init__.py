"""The library behind each command: plain functions that decide and return a report;
the CLI only parses options and prints reports."""
