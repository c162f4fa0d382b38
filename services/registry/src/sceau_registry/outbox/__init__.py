"""Outgoing events: an insert-only event log and the relay that sends it to Kafka."""
