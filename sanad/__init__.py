"""Shared kernel: settings, database, object storage, auth, app factory and CLI."""
