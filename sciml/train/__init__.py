"""sciml.train."""
