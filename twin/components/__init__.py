"""Component families, one module each (see DESIGN.md)."""
