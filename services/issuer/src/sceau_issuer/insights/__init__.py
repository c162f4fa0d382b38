"""Issuer insights: aggregate counters per achievement, cohort and series module (R73 to R78)."""
