"""A pack is a tar any tar reads, and each file's offset gives back its bytes exactly."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intake.packs import pack

AT = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
# Sizes on, under and over the 512-byte blocks a tar pads to, and an empty file.
FILES = [
    ("photo.png", b"\x89PNG" + bytes(range(256)) * 200),
    ("proof.pdf", b"%PDF-1.7\n" + b"x" * 503),
    ("deed.pdf", b"%PDF-1.7\n" + b"y" * 1024),
    ("empty.txt", b""),
]


def test_each_offset_gives_back_its_file_byte_for_byte() -> None:
    packed = pack(FILES, AT)

    for (_, data), offset in zip(FILES, packed.offsets, strict=True):
        assert packed.data[offset : offset + len(data)] == data
    assert len(packed.data) % 512 == 0


def test_gnu_tar_lists_and_extracts_the_same_files(tmp_path: Path) -> None:
    if shutil.which("tar") is None:
        pytest.skip("tar is not installed")
    archive = tmp_path / "submitted.tar"
    archive.write_bytes(pack(FILES, AT).data)

    listing = subprocess.run(["tar", "-tvf", str(archive)], capture_output=True, text=True, check=True)
    subprocess.run(["tar", "-xf", str(archive), "-C", str(tmp_path)], check=True)

    assert [line.split()[-1] for line in listing.stdout.splitlines()] == [name for name, _ in FILES]
    assert "2026-03-02" in listing.stdout
    for name, data in FILES:
        assert (tmp_path / name).read_bytes() == data


def test_python_s_tarfile_finds_each_file_where_the_offset_says() -> None:
    packed = pack(FILES, AT)

    with tarfile.open(fileobj=io.BytesIO(packed.data)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [name for name, _ in FILES]
        assert [m.offset_data for m in members] == packed.offsets
        assert all(m.isfile() and m.mode == 0o644 for m in members)


def test_a_name_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        pack([("proof.pdf", b"a"), ("proof.pdf", b"b")], AT)


def test_a_name_a_header_cannot_hold_is_refused_rather_than_moving_the_offsets() -> None:
    with pytest.raises(ValueError, match="too long"):
        pack([("x" * 300 + ".pdf", b"a")], AT)
