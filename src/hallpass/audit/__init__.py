"""Compliance audit: tamper evidence, histories, the hallway at a past moment, exports."""
