"""Reproducible benchmarks of Reglament (``python -m benchmarks`` or ``make bench``).

They measure and print figures; they never fail on timing.
"""
