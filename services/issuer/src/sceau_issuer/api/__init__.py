"""HTTP API of the issuer (institution API with bearer API keys, plus public claim links)."""
