"""The learner's side of a credential: their page, consent, share links and downloads."""
