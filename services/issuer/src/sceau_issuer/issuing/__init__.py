"""Issuing: one credential or a cohort batch, idempotently, with claim links."""
