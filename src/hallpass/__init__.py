"""Hallpass: digital hall passes for schools."""

__version__ = "0.1.0"
