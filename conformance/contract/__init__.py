"""The contract layer: schemas, constraints, catalogue and namespaces.

It imports nothing else from the project; every other layer (wire, checks, suite, emulator)
reads the contract through it.
"""
