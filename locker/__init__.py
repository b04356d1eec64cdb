"""The citizen's locker: per-citizen document storage and access (sign-in and sharing come later)."""
