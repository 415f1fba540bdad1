"""Reports of a run: summary table, baseline, reproduction lines, certificate (and Allure/JUnit).

Reporting sits on top of every other layer: it reads verdicts the plugin put on pytest's
reports and the evidence the wire layer captured, and never changes a verdict's cause.
"""
