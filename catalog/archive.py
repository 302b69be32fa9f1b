"""Unpack downloaded archives (wheels, zips, tarballs) as hostile input: no traversal, links or bombs."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from catalog.models import CatalogError

MAX_MEMBERS = 50_000
MAX_TOTAL_BYTES = 500_000_000
MAX_MEMBER_BYTES = 50_000_000
ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _safe_member_path(name: str) -> PurePosixPath | None:
    """The member's relative path, or None when it is absolute or climbs out of the target."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or ":" in pure.parts[0]:
        return None
    return pure


def _check_budget(members: int, total: int) -> None:
    if members > MAX_MEMBERS:
        raise CatalogError(f"archive has more than {MAX_MEMBERS} members; refusing it", kind="bad_archive")
    if total > MAX_TOTAL_BYTES:
        raise CatalogError(
            f"archive unpacks to more than {MAX_TOTAL_BYTES} bytes; refusing it", kind="bad_archive"
        )


def extract_zip(archive: Path, target: Path) -> list[str]:
    """Unpack regular files of a zip/wheel; skip unsafe names, links and oversize members."""
    skipped: list[str] = []
    total = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            _check_budget(len(infos), 0)
            for info in infos:
                rel = _safe_member_path(info.filename)
                is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
                if info.is_dir():
                    continue
                if rel is None or is_link or info.file_size > MAX_MEMBER_BYTES:
                    skipped.append(info.filename)
                    continue
                total += info.file_size
                _check_budget(0, total)
                dest = target.joinpath(*rel.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    _copy_capped(src, out, MAX_MEMBER_BYTES)
    except zipfile.BadZipFile as exc:
        raise CatalogError(f"{archive.name} is not a valid zip archive: {exc}", kind="bad_archive") from None
    return skipped


def extract_tar(archive: Path, target: Path) -> list[str]:
    """Unpack regular files of a tarball; skip unsafe names, links, devices and oversize members."""
    skipped: list[str] = []
    total = 0
    try:
        with tarfile.open(archive) as tf:
            members = []
            for count, member in enumerate(tf, start=1):
                _check_budget(count, 0)
                rel = _safe_member_path(member.name)
                if not member.isfile() or rel is None or member.size > MAX_MEMBER_BYTES:
                    if not member.isdir():
                        skipped.append(member.name)
                    continue
                total += member.size
                _check_budget(0, total)
                members.append(member)
            tf.extractall(target, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise CatalogError(
            f"{archive.name} is not a readable tar archive: {exc}", kind="bad_archive"
        ) from None
    return skipped


def extract_archive(archive: Path, target: Path) -> list[str]:
    """Unpack any supported archive into target; return the names of members skipped as unsafe."""
    target.mkdir(parents=True, exist_ok=True)
    if archive.name.lower().endswith((".whl", ".zip")):
        return extract_zip(archive, target)
    return extract_tar(archive, target)


def _copy_capped(src, out, cap: int) -> None:
    written = 0
    while chunk := src.read(1 << 20):
        written += len(chunk)
        if written > cap:
            raise CatalogError("archive member larger than declared; refusing it", kind="bad_archive")
        out.write(chunk)
