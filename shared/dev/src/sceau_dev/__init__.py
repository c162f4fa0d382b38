"""Sceau developer tooling: local Kafka/MongoDB servers, test fixtures and the stack launcher.

Never installed in a service image: only the workspace (tests, demo, benchmarks) depends on it.
"""
