"""The documents sent with an application or with the answer to a return: each file
checked against what the service declares for its kind (size, type judged by its first
bytes), and every problem reported at once, in the applicant's language."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from intake.catalogue import AttachmentSpec, ServiceSpec
from intake.form_messages import Language, message
from sanad.errors import FieldError, InvalidInput
from web.file_types import sniff

# ISO base media file brands of HEIF/HEIC, what iPhones save photos as: worth telling
# apart from any other unreadable file, because the citizen can do something about it.
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")


@dataclass(frozen=True)
class UploadedFile:
    kind: str
    filename: str
    declared_type: str | None
    data: bytes
    kept_token: str | None = None
    """Set when the file is one a page kept from an earlier, refused attempt
    (:mod:`intake.pending_uploads`): using it ends the keeping."""


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed its checks, with its type as its bytes say."""

    file: UploadedFile
    content_type: str
    extension: str


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an application: an answer, the office, or a file."""

    error: FieldError
    status_code: int = 422
    """413 a file too large, 415 a file of a type the service does not accept, 422 anything else."""


class Refused(InvalidInput):
    """Everything wrong with an application (or the answer to a return) at once.

    The status is 413 when every problem is a file too large, 415 when every problem is
    a file of a type not accepted, 422 otherwise. ``valid_files`` are the files that
    passed their checks: a page keeps them, so the citizen need not choose them again.
    """

    def __init__(self, problems: Sequence[Problem], valid_files: Sequence[CheckedFile] = ()) -> None:
        super().__init__([p.error for p in problems])
        statuses = {p.status_code for p in problems}
        self.status_code = statuses.pop() if len(statuses) == 1 else 422
        self.code = {413: "payload_too_large", 415: "unsupported_media_type"}.get(self.status_code, "invalid_input")
        self.valid_files = tuple(valid_files)


def size_text(size: int, *, round_up: bool = False) -> str:
    """``2 MB``, ``24.6 MB``, ``300 KB``: a size as people read it. A file over a limit
    is told its size rounded up, so it never reads as equal to the limit."""
    mb = 1024 * 1024
    if size >= mb and size % mb == 0:
        return f"{size // mb} MB"
    if size >= mb:
        tenths = -(-size * 10 // mb) if round_up else round(size * 10 / mb)
        return f"{tenths // 10}.{tenths % 10} MB"
    return f"{max(1, -(-size // 1024) if round_up else size // 1024)} KB"


def type_names(accepted: Sequence[str]) -> str:
    """``PDF, JPEG, PNG``."""
    return ", ".join(media_type.split("/")[1].upper() for media_type in accepted)


def label_of(spec: AttachmentSpec, language: Language) -> str:
    return str(getattr(spec.label, language, "") or spec.label.en)


def is_heif(data: bytes) -> bool:
    """An HEIC/HEIF image: an ISO media file (``ftyp`` box first) of a HEIF brand."""
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def check_files(
    service: ServiceSpec,
    files: Sequence[UploadedFile],
    language: Language,
    *,
    required: Collection[str] | None = None,
    allowed: Collection[str] | None = None,
) -> tuple[list[CheckedFile], list[Problem]]:
    """Each file against its kind's declaration; then the kinds that must be there.

    ``required`` defaults to the kinds the service requires; ``allowed`` (default: every
    kind the service declares) narrows what may be sent (the answer to a return may
    bring only the documents the officer marked)."""
    specs = {spec.kind: spec for spec in service.attachments}
    required = {spec.kind for spec in service.attachments if spec.required} if required is None else required
    checked: list[CheckedFile] = []
    problems: list[Problem] = []
    sent: set[str] = set()
    for file in files:
        where = f"attachments.{file.kind}"
        spec = specs.get(file.kind)
        if spec is None:
            text = message("attachment_not_asked", language, label=file.kind[:64])
            problems.append(Problem(FieldError(where, text), 422))
            continue
        label = label_of(spec, language)
        if allowed is not None and file.kind not in allowed:
            problems.append(Problem(FieldError(where, message("not_marked", language, label=label)), 422))
            continue
        if file.kind in sent:
            problems.append(Problem(FieldError(where, message("attachment_twice", language, label=label)), 422))
            continue
        sent.add(file.kind)
        problem = _problem_with(spec, file.data, label, language)
        if problem is not None:
            problems.append(Problem(FieldError(where, problem[0]), problem[1]))
            continue
        sniffed = sniff(file.data)
        assert sniffed is not None  # _problem_with refuses what sniff cannot read
        checked.append(CheckedFile(file, sniffed[0], sniffed[1]))
    for spec in service.attachments:
        if spec.kind in required and spec.kind not in sent:
            key = "attachment_required" if allowed is None else "marked_attachment_required"
            text = message(key, language, label=label_of(spec, language))
            problems.append(Problem(FieldError(f"attachments.{spec.kind}", text), 422))
    return checked, problems


def _problem_with(spec: AttachmentSpec, data: bytes, label: str, language: Language) -> tuple[str, int] | None:
    """Why ``data`` cannot be a file of ``spec``'s kind, and the status that says so."""
    types = type_names(spec.accepted_types)
    if len(data) > spec.max_bytes:
        size, limit = size_text(len(data), round_up=True), size_text(spec.max_bytes)
        text = message("attachment_too_large", language, label=label, size=size, limit=limit)
        return text, 413
    if is_heif(data):
        return message("attachment_heic", language, label=label, types=types), 415
    sniffed = sniff(data)
    if sniffed is None or sniffed[0] not in spec.accepted_types:
        return message("attachment_wrong_type", language, label=label, types=types), 415
    return None
