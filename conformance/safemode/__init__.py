"""Safe mode: pace, request tracking, cleanup with DoNotReport, the leak audit.

A production server serves real traffic while the suite runs. In safe mode (``[target]
safe_mode``, on for every profile but the emulator's) the suite therefore

* keeps a pace (``[target] max_requests_per_second``, else ``SAFE_MODE_RATE``) in the transport
  of every client the fixtures build;
* tracks every request it created (each AddRequest answer carrying an OpenMediaID) and each one
  it saw terminate, and cancels the rest with ``CancelIfAllocated`` and ``DoNotReport`` as soon
  as the test (or the broader fixture) that created them ends, so that no real agent of the
  group is offered one; at the end of the run it cancels whatever is still left: nothing it
  added stays queued or with an agent, and no statistic counts it;
* sends SetOptions, which changes the whole server for good, only with the values the profile
  names as in force (``[[overwrite_server_options]]``; none without them), and lists every
  SetOptions it sent in the audit, since SOAP offers no way to read options back or restore them;
* holds a SIGINT/SIGTERM back while a request is on the wire (at most one exchange timeout):
  otherwise an interrupt between "the server created it" and "the suite read its ID" would
  leave a request nobody knows of;
* shows the cleanup's progress, and lets neither a second Ctrl-C nor a SIGTERM cut it short: the
  second Ctrl-C says what abandoning would leave behind, only the third abandons;
* ends with the leak audit: ``openmedia leak audit: created N, cleaned N, left behind: [...];
  SetOptions sent: ...``, naming the target, so that ``openmedia-conformance cleanup`` can
  cancel what was left.

Each process journals what it learns as it happens (one JSON line per event), so that the run's
main process can clean up after an xdist worker that was stopped before it could, and count for
the whole run. The pytest hooks that drive all this are in ``conformance.plugin.safe_mode``.
"""
