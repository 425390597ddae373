"""`python -m ferbot`: the live bot."""

import sys

from ferbot.cli import main

sys.exit(main())
