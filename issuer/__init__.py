"""Certificate issuance: templates, rendering, QR codes, PAdES signing and the document registry."""
