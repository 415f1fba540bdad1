"""``openmedia-conformance soak``: many clients at once, a random valid mix of the twelve
operations, the concurrency invariants checked as every answer arrives.

* ``invariants``: the pure judgements (``Finding`` or nothing), each citing its requirement;
* ``model``: the client-side model of every request created, which applies them at the moment
  each applies (what was answered before a call left is what the target knew);
* ``mix``: the operations' weights and valid members in the profile's world;
* ``runner``: the client threads, the bound, the by-time stream;
* ``stats``, ``progress``, ``report``: the figures, the progress line, the summary and JSON;
* ``session``: one soak end to end, with safe mode's pace, cleanup and leak audit.

A tool beside the suite (the ``mutation | traceability | soak`` layer): it uses the plugin's
settings, pre-flight and embedded emulator, never pytest's collection.
"""
