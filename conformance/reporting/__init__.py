"""Reports of a run: summary table, baseline, reproduction lines, certificate, Allure and JUnit.

A consumer of results only: pure functions of the run's records (``certificate.TestResult``,
``allure_results.FinishedTest``), its settings (read through ``run_description.RunDescription``)
and the evidence the wire layer captured. It holds no pytest hook and imports nothing of the
plugin: ``conformance.plugin`` (``allure``, ``fingerprint``, ``junit``, ``summary``) calls it, and
it never changes a verdict's cause.
"""
