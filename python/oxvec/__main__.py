"""``python -m oxvec``: the ``oxvec`` command."""

import sys

from .cli import main

sys.exit(main())
