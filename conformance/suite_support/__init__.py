"""What the suite's test modules share: steps against a target, models of what it should answer.

Not collected (``conformance/suite/`` holds only ``test_*.py`` and ``conftest.py``); judgements
the tests share live in ``conformance.checks``, not here: this package drives the target and
keeps the expected state, the checks decide.
"""
