"""sciml.plot."""
