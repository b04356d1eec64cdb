"""Whether the renderer's engine is what the certificate templates are made for.

Certificates are laid out by Typst, through the ``typst`` wheel (a compiled module with
no system libraries to install: ``issuer/render.py``). Another Typst release may lay a
template out differently or refuse it, and a certificate's look must not change with a
server's upgrade, so start-up and ``/ready`` name a missing or different one.
"""

from __future__ import annotations

from importlib import metadata

#: The Typst binding the templates are written and tested for (pinned in pyproject.toml).
TYPST_VERSION = "0.15.2"


def installed_typst_version() -> str | None:
    """The installed ``typst`` wheel's version, or ``None``."""
    try:
        return metadata.version("typst")
    except metadata.PackageNotFoundError:
        return None


def missing_renderer_libraries() -> list[str]:
    """What the renderer lacks, as sentences for an operator; empty when all is there."""
    installed = installed_typst_version()
    if installed is None:
        return [f"the typst package is not installed (pip install typst=={TYPST_VERSION})"]
    if installed != TYPST_VERSION:
        return [f"typst {installed} is installed; the certificate templates are made for {TYPST_VERSION}"]
    return []
