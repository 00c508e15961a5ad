"""sciml.reference."""
