"""The mutation matrix: run the suite once per planted defect and prove every check can fail.

``matrix`` runs it (``openmedia-conformance mutation``), ``runs`` starts one pytest subprocess,
``select`` is the small pytest plugin those subprocesses load, ``results`` holds the verdicts and
``report`` renders them; ``observable`` is the observable profile (the emulator without its
control plane, described as a vendor server) that ``--observable`` runs each defect on too.
"""
