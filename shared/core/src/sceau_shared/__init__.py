"""Sceau shared contracts and plumbing (no service-specific logic)."""

__version__ = "0.1.0"
