"""SQL shipped with snoopdb: schema/ (frozen per migration revision); views/<name>/<n>.sql,
functions/<name>/<n>.sql and tables/<name>/<n>.sql (one file per version of a view, a
function or a table that revisions replace whole, frozen once a revision installs it);
and queries/ (what the application runs)."""
