"""API keys: per-institution bearer credentials with scopes, shown once and stored hashed."""
