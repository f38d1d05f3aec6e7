"""python -m nn: see nn/cli.py."""

import sys

from .cli import main

sys.exit(main())
