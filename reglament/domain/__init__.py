"""Pure-Python core of Reglament: calendars, business time, SLA arithmetic.

Nothing here imports Django or any Reglament app (an import-linter contract
enforces it), so the rules can be tested in milliseconds and reused anywhere.
"""
