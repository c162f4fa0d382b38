"""Credential engine: Open Badges 3.0 credentials, Data Integrity proofs, DIDs and status lists."""
