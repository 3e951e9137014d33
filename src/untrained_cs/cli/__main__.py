"""``python -m untrained_cs.cli``: the same as the ``untrained-cs`` command."""

import sys

from . import main

sys.exit(main())
