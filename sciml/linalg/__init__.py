"""sciml.linalg."""
