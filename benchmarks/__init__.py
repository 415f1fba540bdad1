"""Benchmarks of the suite, its client and the reference emulator (``python -m benchmarks.run``).

Measurements, not tests: nothing here asserts a time. Each module measures one thing and
returns plain figures; ``run`` puts them side by side from one run and checks the goals.
"""
