"""Status lists: the signed lists the issuer publishes, stored once and served as exact bytes."""
