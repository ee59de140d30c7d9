"""The offline demo: bundled sample news served on a loopback HTTP server and run through the real pipeline."""
