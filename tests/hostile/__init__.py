"""Misbehaving loopback servers and a bounded suite runner, for ``tests/test_hostile_targets.py``.

The suite is pointed at servers nobody here controls; these stand in for the worst of them.
"""
