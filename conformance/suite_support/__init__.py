"""What the suite's test modules share: steps against a target, models of what it should answer.

Not collected (``conformance/suite/`` holds only ``test_*.py`` and ``conftest.py``); judgements
the tests share live in ``conformance.checks``, not here: this package drives the target and
keeps the expected state, the checks decide.

* ``requests``: the test's ``Env``; adding requests (under test or as a step), walking one
  into a state (``place``), reading it back (``record``, ``events_since``, ``snapshot``);
* ``groups``: groups and agents picked from the profile;
* ``outages``: router and licence losses for the length of a block;
* ``status_queries``, ``lives``, ``polling``: the status calls with TimeStamps kept as written,
  the state sequences requests are put through, the R12 polling client;
* ``lifecycle_model``, ``lifecycle_values``, ``lifecycle_comparison``: the stateful test's own
  model of the lifecycle, its values, and the comparison of the target's answers with it;
* ``routing``, ``option_cases``, ``limit_cases``, ``divert_cases``: the routing world and the
  tables of cases of SetOptions, AddRequest's limits and DivertRequest's refusals.
"""
