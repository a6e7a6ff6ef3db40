"""SQL shipped with snoopdb: schema/ (frozen per migration revision), views/<name>/<n>.sql
(one file per view version, frozen once a revision installs it) and queries/ (what the
application runs)."""
