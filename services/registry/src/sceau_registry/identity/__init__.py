"""The registry's own identity: its did:web DID and its signing key, sealed at rest."""
