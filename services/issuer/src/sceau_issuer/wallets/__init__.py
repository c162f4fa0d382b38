"""OpenID4VCI 1.0: wallets take a learner's credential with a pre-authorized code."""
