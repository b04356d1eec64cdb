"""Verification of issued documents: QR lookups and uploaded-PDF signature validation."""
