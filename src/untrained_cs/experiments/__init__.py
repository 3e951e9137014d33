"""One module per paper figure: each returns the data behind the figure (no plotting)."""
