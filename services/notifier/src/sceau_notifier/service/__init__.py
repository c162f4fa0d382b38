"""Business logic of the notifier: e-mails, webhooks and reminders (no web or broker code)."""
