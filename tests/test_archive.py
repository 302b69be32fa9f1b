"""Archives from packages are hostile: traversal, links, devices and bombs are refused or skipped."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from catalog.archive import MAX_MEMBER_BYTES, extract_archive
from catalog.models import CatalogError


def make_tar(path, members):
    with tarfile.open(path, "w:gz") as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)


def file_info(name, data=b"x"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def test_tar_traversal_absolute_and_links_are_skipped(tmp_path):
    link = tarfile.TarInfo("pkg/evil_link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo("pkg/hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "../../outside"
    device = tarfile.TarInfo("pkg/dev")
    device.type = tarfile.CHRTYPE
    archive = tmp_path / "a.tar.gz"
    make_tar(archive, [file_info("pkg/ok.py", b"print(1)"), file_info("../escape.py"), file_info("/abs.py"),
                       (link, None), (hard, None), (device, None)])
    target = tmp_path / "out"
    skipped = extract_archive(archive, target)
    assert (target / "pkg" / "ok.py").read_bytes() == b"print(1)"
    assert not (tmp_path / "escape.py").exists()
    assert set(skipped) == {"../escape.py", "/abs.py", "pkg/evil_link", "pkg/hard", "pkg/dev"}
    assert [p.name for p in target.rglob("*") if p.is_file()] == ["ok.py"]


def test_zip_traversal_and_symlinks_are_skipped(tmp_path):
    archive = tmp_path / "a.whl"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg/server.py", "x = 1")
        zf.writestr("../../escape.py", "bad")
        link = zipfile.ZipInfo("pkg/link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    target = tmp_path / "out"
    skipped = extract_archive(archive, target)
    assert (target / "pkg" / "server.py").read_text() == "x = 1"
    assert set(skipped) == {"../../escape.py", "pkg/link"}
    assert not (target / "pkg" / "link").exists()


def test_zip_bomb_member_is_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.txt", b"\0" * (MAX_MEMBER_BYTES + 1))
    assert archive.stat().st_size < 200_000
    skipped = extract_archive(archive, tmp_path / "out")
    assert skipped == ["big.txt"]


def test_not_an_archive_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.tar.gz"
    bad.write_bytes(b"garbage" * 10)
    with pytest.raises(CatalogError, match="not a readable tar archive"):
        extract_archive(bad, tmp_path / "out")
    bad_zip = tmp_path / "x.zip"
    bad_zip.write_bytes(b"garbage")
    with pytest.raises(CatalogError, match="not a valid zip"):
        extract_archive(bad_zip, tmp_path / "out2")
