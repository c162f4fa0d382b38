"""The LMS completion hook: signed course-completion events turned into idempotent issues."""
