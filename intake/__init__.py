"""Application intake and the Right-to-Service clock (not built yet)."""
