"""sciml.problems."""
