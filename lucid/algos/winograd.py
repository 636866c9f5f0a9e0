"""winograd: placeholder — being implemented (registers nothing yet)."""
