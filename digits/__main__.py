"""python -m digits: see digits/cli.py."""

import sys

from .cli import main

sys.exit(main())
