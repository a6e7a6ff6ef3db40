"""One module per data source: each yields rows and loads them in one transaction."""
