"""A suggested English spelling of a Gurmukhi name or place, for the holder to confirm.

Table-driven, in the spelling Punjab's offices and people use (ਹਰਜੀਤ → Harjeet, ਕੌਰ →
Kaur, ਲੁਧਿਆਣਾ → Ludhiana), not a scholarly scheme: IAST or ITRANS would print
"Harajīta" and keep every inherent vowel. Inherent vowels are dropped as Punjabi drops
them in speech (at the end of a word, and between a vowel and a consonant that carries
one: ਹ-ਰ-ਜੀ → har-jee), and common words of addresses are translated (ਪਿੰਡ → Village).
It is only a suggestion: the holder reads it and corrects it before it is printed.
"""

from __future__ import annotations

import re

_CONSONANTS = {
    "ਕ": "k", "ਖ": "kh", "ਗ": "g", "ਘ": "gh", "ਙ": "ng", "ਚ": "ch", "ਛ": "chh", "ਜ": "j", "ਝ": "jh",
    "ਞ": "ny", "ਟ": "t", "ਠ": "th", "ਡ": "d", "ਢ": "dh", "ਣ": "n", "ਤ": "t", "ਥ": "th", "ਦ": "d",
    "ਧ": "dh", "ਨ": "n", "ਪ": "p", "ਫ": "ph", "ਬ": "b", "ਭ": "bh", "ਮ": "m", "ਯ": "y", "ਰ": "r",
    "ਲ": "l", "ਵ": "v", "ੜ": "r", "ਸ": "s", "ਹ": "h", "ਸ਼": "sh", "ਖ਼": "kh", "ਗ਼": "g", "ਜ਼": "z",
    "ਫ਼": "f", "ਲ਼": "l",
}  # fmt: skip
_NUKTA_FORMS = {"ਸ": "ਸ਼", "ਖ": "ਖ਼", "ਗ": "ਗ਼", "ਜ": "ਜ਼", "ਫ": "ਫ਼", "ਲ": "ਲ਼"}
_INDEPENDENT_VOWELS = {
    "ਅ": "a", "ਆ": "a", "ਇ": "i", "ਈ": "ee", "ਉ": "u", "ਊ": "oo", "ਏ": "e", "ਐ": "ai", "ਓ": "o", "ਔ": "au",
}  # fmt: skip
_VOWEL_SIGNS = {"ਾ": "a", "ਿ": "i", "ੀ": "ee", "ੁ": "u", "ੂ": "oo", "ੇ": "e", "ੈ": "ai", "ੋ": "o", "ੌ": "au"}
_NASALS = {"ੰ", "ਂ"}
_ADDAK = "ੱ"
_VIRAMA = "੍"
_NUKTA = "਼"
_DIGITS = str.maketrans("੦੧੨੩੪੫੬੭੮੯", "0123456789")
#: Words of names and addresses with a settled English form.
_WORDS = {
    "ਪਿੰਡ": "Village", "ਡਾਕਖਾਨਾ": "Post Office", "ਡਾਕਖ਼ਾਨਾ": "Post Office", "ਡਾਕਘਰ": "Post Office",
    "ਮਕਾਨ": "House", "ਨੰ.": "No.", "ਨੰਬਰ": "No.", "ਵਾਰਡ": "Ward", "ਗਲੀ": "Street", "ਰੋਡ": "Road",
    "ਤਹਿਸੀਲ": "Tehsil", "ਜ਼ਿਲ੍ਹਾ": "District", "ਕਲੋਨੀ": "Colony", "ਮਾਡਲ": "Model", "ਟਾਊਨ": "Town",
    "ਸੈਕਟਰ": "Sector", "ਸਿੰਘ": "Singh", "ਕੌਰ": "Kaur",
}  # fmt: skip
# Gurmukhi letters and signs; its digits (U+0A66-0A6F) are translated on their own.
_GURMUKHI_WORD = re.compile(r"[\u0A00-\u0A65\u0A70-\u0A7F]+\.?")


class _Syllable:
    """One consonant cluster with what follows it: its letters, its vowel (``None``: the
    inherent one, which may be dropped) and what comes after the vowel (a nasal)."""

    __slots__ = ("after", "double", "letters", "vowel")

    def __init__(self, letters: str, vowel: str | None, *, double: bool = False) -> None:
        self.letters, self.vowel, self.after, self.double = letters, vowel, "", double


def suggest_english(text: str) -> str:
    """The suggested English spelling of ``text``: Gurmukhi words spelt in Latin letters,
    each capitalised; anything else (digits, punctuation, Latin) kept as it is."""

    def word(match: re.Match[str]) -> str:
        found = match.group(0)
        if found in _WORDS:
            return _WORDS[found]
        if found.rstrip(".") in _WORDS:
            return _WORDS[found.rstrip(".")] + "."
        spelt = _spell(found.rstrip("."))
        return spelt[:1].upper() + spelt[1:] + ("." if found.endswith(".") else "")

    return _GURMUKHI_WORD.sub(word, text).translate(_DIGITS)


def _spell(word: str) -> str:
    syllables = _syllables(word)
    _drop_inherent_vowels(syllables)
    out: list[str] = []
    previous_vowel = False
    for i, syllable in enumerate(syllables):
        letters = syllable.letters
        # ਵ is "v" where a vowel comes before it (Navjot, Vikram), "w" after a consonant (Balwinder).
        if letters.startswith("v") and i > 0 and not previous_vowel:
            letters = "w" + letters[1:]
        if syllable.double and letters:
            letters = letters[0] + letters
        vowel = syllable.vowel or ""
        if vowel == "ee" and (i == len(syllables) - 1 or not syllables[i + 1].letters):
            vowel = "i"  # Kheri, Ravidasia: a final or pre-vowel ੀ is written "i"
        nasal = syllable.after
        if nasal and i + 1 < len(syllables):
            following = syllables[i + 1].letters[:1]
            # ਅੰਮ੍ਰਿਤਸਰ → Amritsar, ਕੰਬੋਜ → Kamboj: a nasal before a lip sound is an m.
            nasal = "" if following == "m" else ("m" if following in ("p", "b") else nasal)
        out.append(letters + vowel + nasal)
        previous_vowel = bool(vowel)
    spelt = "".join(out)
    # Rajinder, Balwinder: the ending is written -nder, as every office spells it.
    return spelt[:-4] + "nder" if spelt.endswith("ndar") else spelt


def _syllables(word: str) -> list[_Syllable]:
    syllables: list[_Syllable] = []
    pending_double = False
    chars = list(word)
    i = 0
    while i < len(chars):
        ch = chars[i]
        if i + 1 < len(chars) and chars[i + 1] == _NUKTA and ch in _NUKTA_FORMS:
            ch = _NUKTA_FORMS[ch]
            i += 1
        if ch in _CONSONANTS:
            letters = _CONSONANTS[ch]
            # A subjoined consonant (ਪ੍ਰ, ੜ੍ਹ) joins the cluster.
            while i + 2 < len(chars) and chars[i + 1] == _VIRAMA and chars[i + 2] in _CONSONANTS:
                letters += _CONSONANTS[chars[i + 2]]
                i += 2
            syllables.append(_Syllable(letters, None, double=pending_double))
            pending_double = False
        elif ch in _INDEPENDENT_VOWELS:
            syllables.append(_Syllable("", _INDEPENDENT_VOWELS[ch]))
        elif ch in _VOWEL_SIGNS and syllables:
            syllables[-1].vowel = _VOWEL_SIGNS[ch]
        elif ch in _NASALS and syllables:
            if syllables[-1].vowel is None:
                syllables[-1].vowel = "a"  # a nasalised inherent vowel is always heard
            syllables[-1].after += "n"
        elif ch == _ADDAK:
            if syllables and syllables[-1].vowel is None:
                syllables[-1].vowel = "a"
            pending_double = True
        elif ch == _VIRAMA and syllables:
            syllables[-1].vowel = ""
        i += 1
    return syllables


def _drop_inherent_vowels(syllables: list[_Syllable]) -> None:
    """Resolve each inherent vowel, right to left: silent at the end of a word, and in a
    consonant between a vowel and a consonant that keeps one (ਹਰਜੀਤ → har-jeet,
    ਕਿਸ਼ਨਗੜ੍ਹ → kishan-garh); heard everywhere else."""
    last = len(syllables) - 1
    for i in range(last, -1, -1):
        syllable = syllables[i]
        if syllable.vowel is not None:
            continue
        if i == last:
            syllable.vowel = "" if i > 0 else "a"
            continue
        # Not yet resolved (to the left) is an inherent vowel: heard unless dropped later.
        before = i > 0 and syllables[i - 1].vowel != ""
        after = bool(syllables[i + 1].vowel) and bool(syllables[i + 1].letters)
        syllable.vowel = "" if before and after else "a"
