"""``openmedia-conformance``: the console command (``main``) and the subcommands that live here
(``run``, ``cleanup``); the other subcommands register themselves from their subsystem."""
