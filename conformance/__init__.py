"""Conformance suite for the MiCC Enterprise Open Media Service (SOAP).

PYTEST_DONT_REWRITE: ``openmedia-conformance run`` imports this package before it starts pytest,
which would then warn that it cannot rewrite asserts here (pytest ≥ 9.2 marks an installed
plugin's whole package). The suite fails through ``ConformanceFailure``, not plain asserts, and
each test module is still rewritten on its own.
"""

__version__ = "0.1.0"
