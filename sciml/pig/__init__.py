"""sciml.pig."""
