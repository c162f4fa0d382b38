"""Learner e-mails: rendering from templates, LinkedIn links and SMTP delivery."""
