"""``python -m panoptiq``: the command line."""

import sys

from panoptiq.cli import main

sys.exit(main())
