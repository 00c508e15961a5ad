"""sciml.data."""
