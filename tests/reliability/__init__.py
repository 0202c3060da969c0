"""Reliability suite: bad and hostile input through every layer, injected faults, and security checks.

The bad-input corpus lives in :mod:`.corpus` (one table, each case with its expected outcome); the tests of
each layer read it, and ``python -m tests.reliability.make_report`` turns it (and the fault tests) into
``docs/reliability.md``.
"""
