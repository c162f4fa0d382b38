"""Tenants: institutions announced by the registry, and their signing keys."""
