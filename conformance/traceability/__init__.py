"""From a requirement to everything about it: the tests citing it, the emulator code implementing
it, the planted defects breaking it (``openmedia-conformance requirement ID``), and the
generated ``docs/requirements.md``."""
