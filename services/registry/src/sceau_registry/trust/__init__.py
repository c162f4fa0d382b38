"""Trust answers as of a date: issuer lookups, public institution views, DID documents, exports."""
