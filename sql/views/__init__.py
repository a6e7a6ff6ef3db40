"""One file per view, named after the view."""
