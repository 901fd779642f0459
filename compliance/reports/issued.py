"""Reports as they were issued: every download and every e-mailed report is kept (IssuedReport) with its
SHA-256, so the auditors' binder holds the very copies that were issued."""

import hashlib
from typing import TYPE_CHECKING, BinaryIO

from django.core.files import File

from compliance.models import IssuedReport, Mailing

if TYPE_CHECKING:
    from transactions.users import User

CHUNK = 1 << 20


def sha256_of(stream: BinaryIO) -> tuple[str, int]:
    """The SHA-256 and size of a stream read from where it stands; it is left at its end."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def report_year(period: str) -> int:
    return int(period[:4])


def issued_report_record(
    *,
    kind: str,
    period: str,
    filename: str,
    content: BinaryIO,
    how: str,
    user: "User | None" = None,
    issued_to: str = "",
    mailing: Mailing | None = None,
) -> IssuedReport:
    """Keep a copy of `content` (a seekable binary file) as issued; the stream is rewound afterwards."""
    content.seek(0)
    sha256, size = sha256_of(content)
    content.seek(0)
    issued = IssuedReport(
        kind=kind, period=period, year=report_year(period), filename=filename, sha256=sha256, size=size, how=how,
        issued_by=user, issued_to=issued_to[:500], mailing=mailing,
    )  # fmt: skip
    issued.file.save(filename, File(content), save=False)
    issued.save()
    content.seek(0)
    return issued
