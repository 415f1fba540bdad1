"""``python -m conformance.emulator``: the same command as ``openmedia-conformance emulator``."""

from conformance.emulator.command import main

raise SystemExit(main())
