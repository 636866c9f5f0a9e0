"""im2col: placeholder — being implemented (registers nothing yet)."""
