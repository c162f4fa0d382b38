"""Institution webhooks: signing, secret storage, HTTP delivery and payloads."""
