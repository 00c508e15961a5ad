"""sciml.rom."""
