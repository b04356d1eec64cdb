"""Reading and writing a classic (uncompressed) cross-reference table's objects by byte
position, for the revisions Sanad appends without a generic PDF writer
(``issuer.signature_revision``, ``issuer.evidence_revision``)."""

from __future__ import annotations

import itertools
import re

_OBJECT = re.compile(rb"(\d+)\s+0\s+obj\s*<<(.*)>>\s*endobj\s*$", re.DOTALL)


class ObjectBodies:
    """A file's objects by number; each object's extent is from its own offset to the
    next one's (or the cross-reference table)."""

    def __init__(self, pdf: bytes, offsets: dict[int, int], xref_at: int) -> None:
        self._pdf = pdf
        self._offsets = offsets
        ordered = sorted({*offsets.values(), xref_at})
        self._ends = dict(itertools.pairwise(ordered))

    def body(self, number: int) -> bytes | None:
        """The contents of object ``number``'s dictionary (no stream), or None."""
        start = self._offsets.get(number)
        if start is None or start not in self._ends:
            return None
        match = _OBJECT.match(self._pdf, start, self._ends[start])
        if match is None or int(match.group(1)) != number:
            return None
        return match.group(2)


def xref_subsections(numbers: list[int]) -> list[tuple[int, list[int]]]:
    """Consecutive object numbers grouped: one cross-reference subsection each."""
    runs: list[tuple[int, list[int]]] = []
    for number in numbers:
        if runs and runs[-1][1][-1] == number - 1:
            runs[-1][1].append(number)
        else:
            runs.append((number, [number]))
    return runs
