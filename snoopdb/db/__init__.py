"""The database: finding and connecting to it, its schema's migrations, the loads'
log and the application's queries."""
