"""sciml.neural."""
