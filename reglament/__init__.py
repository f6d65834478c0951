"""Reglament: a service desk that runs written support regulations exactly."""

__version__ = "0.1.0"
