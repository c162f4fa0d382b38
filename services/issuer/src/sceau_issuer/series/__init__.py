"""Series: stackable achievements whose completion issues an overall credential once."""
