"""Unpack downloaded archives (wheels, zips, tarballs) as hostile input: no traversal, links or bombs.

Bounded in disk, memory and time: at most `members` entries (a zip's count is read from its end
record before its directory is loaded), `total_bytes` written, `member_bytes` per file (larger
members are skipped), `stream_bytes` decompressed from a tarball (skipped members included), and
`seconds` of wall time. Whatever goes wrong is one `CatalogError(kind="bad_archive")` line naming
the archive and the cause.
"""

from __future__ import annotations

import struct
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from catalog.models import CatalogError

MAX_MEMBERS = 50_000
MAX_TOTAL_BYTES = 500_000_000
MAX_MEMBER_BYTES = 50_000_000
ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")


@dataclass(frozen=True)
class ArchiveLimits:
    """How much one archive may cost to unpack."""

    members: int = MAX_MEMBERS
    total_bytes: int = MAX_TOTAL_BYTES
    member_bytes: int = MAX_MEMBER_BYTES
    stream_bytes: int = 2 * MAX_TOTAL_BYTES  # a tarball's decompressed stream, read through in order
    seconds: float = 120.0


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _safe_member_path(name: str) -> PurePosixPath | None:
    """The member's relative path, or None when it is absolute or climbs out of the target."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or ":" in pure.parts[0]:
        return None
    return pure


class _Budget:
    """Counts members, bytes and time for one archive; refuses it past a limit."""

    def __init__(self, archive: Path, limits: ArchiveLimits):
        self.archive = archive
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.members = 0
        self.written = 0

    def refuse(self, cause: str) -> CatalogError:
        return CatalogError(f"{self.archive.name}: {cause}; refusing it", kind="bad_archive")

    def count_members(self, members: int) -> None:
        self.members = members
        if members > self.limits.members:
            raise self.refuse(f"archive has more than {self.limits.members} members")
        self.check_time()

    def add_bytes(self, size: int) -> None:
        self.written += size
        if self.written > self.limits.total_bytes:
            raise self.refuse(f"archive unpacks to more than {self.limits.total_bytes} bytes")

    def check_time(self) -> None:
        if time.monotonic() >= self.deadline:
            raise self.refuse(f"unpacking took more than {self.limits.seconds:g} s")


def _zip_entry_count(archive: Path) -> int | None:
    """The entry count of a zip's end-of-central-directory record, read without loading the
    directory (None when the record is not found or defers to zip64)."""
    with open(archive, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 65_557))
        tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    count = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    return None if count == 0xFFFF else count


def extract_zip(archive: Path, target: Path, limits: ArchiveLimits | None = None) -> list[str]:
    """Unpack regular files of a zip/wheel; skip unsafe names, links and oversize members."""
    budget = _Budget(archive, limits or ArchiveLimits())
    skipped: list[str] = []
    try:
        declared = _zip_entry_count(archive)
        if declared is not None:
            budget.count_members(declared)
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            budget.count_members(len(infos))
            for info in infos:
                budget.check_time()
                rel = _safe_member_path(info.filename)
                is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
                if info.is_dir():
                    continue
                if rel is None or is_link or info.file_size > budget.limits.member_bytes:
                    skipped.append(info.filename)
                    continue
                budget.add_bytes(info.file_size)
                dest = target.joinpath(*rel.parts)
                try:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(dest, "wb") as out:
                        _copy_capped(src, out, info.file_size, budget)
                except (FileExistsError, NotADirectoryError, IsADirectoryError):
                    skipped.append(info.filename)  # a file where a folder is, or the other way round
    except zipfile.BadZipFile as exc:
        raise CatalogError(f"{archive.name} is not a valid zip archive: {exc}", kind="bad_archive") from None
    except (OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise budget.refuse(f"cannot unpack ({type(exc).__name__}: {exc})") from None
    return skipped


def extract_tar(archive: Path, target: Path, limits: ArchiveLimits | None = None) -> list[str]:
    """Unpack regular files of a tarball; skip unsafe names, links, devices and oversize members."""
    import tarfile  # here: a wheel's crawl never needs it

    budget = _Budget(archive, limits or ArchiveLimits())
    skipped: list[str] = []
    try:
        with tarfile.open(archive) as tf:
            members = []
            for count, member in enumerate(tf, start=1):
                budget.count_members(count)
                if member.offset_data + member.size > budget.limits.stream_bytes:
                    raise budget.refuse(f"archive stream longer than {budget.limits.stream_bytes} bytes")
                rel = _safe_member_path(member.name)
                if not member.isfile() or rel is None or member.size > budget.limits.member_bytes:
                    if not member.isdir():
                        skipped.append(member.name)
                    continue
                budget.add_bytes(member.size)
                members.append(member)
            budget.check_time()
            tf.extractall(target, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise CatalogError(
            f"{archive.name} is not a readable tar archive: {exc}", kind="bad_archive"
        ) from None
    return skipped


def extract_archive(archive: Path, target: Path, limits: ArchiveLimits | None = None) -> list[str]:
    """Unpack any supported archive into target; return the names of members skipped as unsafe."""
    target.mkdir(parents=True, exist_ok=True)
    if archive.name.lower().endswith((".whl", ".zip")):
        return extract_zip(archive, target, limits)
    return extract_tar(archive, target, limits)


def _copy_capped(src: IO[bytes], out: IO[bytes], cap: int, budget: _Budget) -> None:
    written = 0
    while chunk := src.read(1 << 20):
        written += len(chunk)
        if written > cap:
            raise budget.refuse("a member is larger than its declared size")
        out.write(chunk)
        budget.check_time()
