"""Fixtures of the notifier integration tests (defined in ``notifier_support``)."""

from notifier_support import notifier_settings, publisher, receiver, smtp_sink

__all__ = ["notifier_settings", "publisher", "receiver", "smtp_sink"]
