"""Proof suites: eddsa-rdfc-2022 and Ed25519Signature2020 (ours), VC-JWT and didkit glue."""
