"""Fixtures the integration tests share."""

from support.runtime import runtime

__all__ = ["runtime"]
