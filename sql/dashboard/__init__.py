"""The dashboard's queries (`snoopdb serve`), one file each, read from the coverage views."""
