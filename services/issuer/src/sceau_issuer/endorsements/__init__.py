"""Endorsements: endorsing bodies sign EndorsementCredentials; institutions attach them."""
