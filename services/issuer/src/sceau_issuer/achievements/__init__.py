"""Achievements: versioned, bilingual credential definitions with micro-credential metadata."""
