"""``python -m conformance.cli``: the console command without its script."""

import sys

from conformance.cli.main import main

sys.exit(main())
