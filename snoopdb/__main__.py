import sys

from snoopdb.cli import main

sys.exit(main())
