"""Credential status: revoke/suspend/reinstate, and debounced status list publication."""
