"""fft: placeholder — being implemented (registers nothing yet)."""
