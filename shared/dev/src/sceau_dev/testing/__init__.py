"""Test support: where the real Kafka and MongoDB are, and per-test isolated names."""
