"""What a public verifier may see of a holder's name."""

from __future__ import annotations

import unicodedata


def mask_name(name: str) -> str:
    """Keep each word's first letter with its vowel signs; hide the rest.

    "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ" becomes "ਗੁ••• ਸਿੰ•••": enough for a person holding the paper to
    recognise, too little to harvest names by scanning ids.
    """
    masked = []
    for word in name.split():
        end = 1
        while end < len(word) and unicodedata.category(word[end]) in ("Mn", "Mc"):
            end += 1
        masked.append(word[:end] + "•••")
    return " ".join(masked)
