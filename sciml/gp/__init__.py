"""sciml.gp."""
