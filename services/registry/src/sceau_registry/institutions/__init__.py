"""Institutions: registration, lifecycle and accreditation (governance), store, audit log."""
