"""The signed trust list: re-signed in the background when its content changes."""
