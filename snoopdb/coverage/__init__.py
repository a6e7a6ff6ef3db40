"""Coverage core: which endpoint an audit event hit, and which test made it."""
