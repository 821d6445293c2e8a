"""``python -m fastpq``: the command line."""

import sys

from fastpq.cli import main

sys.exit(main())
