"""``python -m spool_client``: the command line (see :mod:`spool_client.cli`)."""
import sys

from .cli import main

sys.exit(main())
