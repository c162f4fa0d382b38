"""Institutions' verification methods: validity windows (from key events), did:web hosting."""
