"""Command-line edge: parse input, call the core, print tables or JSON. No logic of its own."""
