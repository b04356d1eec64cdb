"""The files of one submission (or of one answer to a return) stored as one object: a tar
archive, with each file's offset kept in its attachment row.

Why one object: the object store's cost is mostly per object, not per byte. Two puts of a
submission's 50 KB and 101 KB files cost MinIO ~3.2 ms of CPU on the benchmark machine,
one put of both ~2.0 ms (`bench/RESULTS.md`), and every object is also an inode and a
listing entry for as long as the application is kept. The files are written together,
kept together and never replaced in place (a return's answer adds new ones), so nothing
is lost by packing them. An officer's view reads one file back with a range read.

Why tar: an operator who copies the object out of the bucket can open it with any tar
(`tar -xf`), and the format puts each file's bytes, unaltered, at a 512-byte boundary
after a header of its own, which is what lets a range read return one file exactly.
"""

from __future__ import annotations

import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

CONTENT_TYPE = "application/x-tar"
_BLOCK = 512


@dataclass(frozen=True)
class Packed:
    data: bytes
    offsets: list[int]
    """Where each file's bytes start in ``data``, in the order given."""


def pack(files: Sequence[tuple[str, bytes]], modified: datetime) -> Packed:
    """A POSIX (ustar) tar of ``files`` (name, bytes), names unique and under 100 bytes."""
    names = [name for name, _ in files]
    if len(set(names)) != len(names):
        raise ValueError(f"a pack names a file twice: {names}")
    parts: list[bytes] = []
    offsets: list[int] = []
    at = 0
    for name, data in files:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = int(modified.timestamp())
        info.mode = 0o644
        # ustar refuses a name it cannot hold (over 100 bytes) rather than extending it,
        # so every header is exactly one block and the offsets below hold.
        header = info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")
        padding = -len(data) % _BLOCK
        parts += [header, data, bytes(padding)]
        offsets.append(at + len(header))
        at += len(header) + len(data) + padding
    parts.append(bytes(2 * _BLOCK))  # the end-of-archive marker
    return Packed(b"".join(parts), offsets)
