"""The conformance suite: one test module per section of the interface description.

Run it with ``openmedia-conformance run``, ``pytest`` in the repository root, or
``pytest --pyargs conformance.suite`` from anywhere once the package is installed. Every test
cites at least one requirement of ``schemas/requirements.toml`` with
``@pytest.mark.requirement(...)`` (the plugin makes a missing or unknown ID a collection error)
and reaches the target only through the plugin's fixtures (``conformance.plugin.fixtures``).
"""
