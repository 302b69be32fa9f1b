"""Archives from packages are hostile: traversal, links, devices and bombs are refused or skipped."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile

import pytest

from catalog.archive import MAX_MEMBER_BYTES, ArchiveLimits, extract_archive
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


def test_zip_with_too_many_members_is_refused_before_its_directory_is_read(tmp_path):
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for index in range(101):
            zf.writestr(f"pkg/m{index}.py", "")
    with pytest.raises(CatalogError, match=r"^many.zip: archive has more than 100 members; refusing it$") as info:
        extract_archive(archive, tmp_path / "out", ArchiveLimits(members=100))
    assert info.value.kind == "bad_archive"
    assert not (tmp_path / "out" / "pkg").exists()


def test_tar_with_too_many_members_is_refused(tmp_path):
    archive = tmp_path / "many.tar.gz"
    make_tar(archive, [file_info(f"pkg/m{index}.py") for index in range(101)])
    with pytest.raises(CatalogError, match="more than 100 members"):
        extract_archive(archive, tmp_path / "out", ArchiveLimits(members=100))


def test_members_under_the_member_limit_cannot_exceed_the_total(tmp_path):
    archive = tmp_path / "wide.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for index in range(3):
            zf.writestr(f"m{index}.txt", b"\0" * 500)
    with pytest.raises(CatalogError, match="unpacks to more than 1000 bytes"):
        extract_archive(archive, tmp_path / "out", ArchiveLimits(total_bytes=1000))
    tarball = tmp_path / "wide.tar.gz"
    make_tar(tarball, [file_info(f"m{index}.txt", b"\0" * 500) for index in range(3)])
    with pytest.raises(CatalogError, match="unpacks to more than 1000 bytes"):
        extract_archive(tarball, tmp_path / "out2", ArchiveLimits(total_bytes=1000))


def test_tar_bomb_is_refused_by_the_length_of_its_stream_even_when_its_members_are_skipped(tmp_path):
    archive = tmp_path / "bomb.tar.gz"
    make_tar(archive, [file_info("big.bin", b"\0" * 3_000_000), file_info("after.py", b"x")])
    assert archive.stat().st_size < 20_000
    limits = ArchiveLimits(member_bytes=1_000_000, stream_bytes=2_000_000)
    with pytest.raises(CatalogError, match="stream longer than 2000000 bytes"):
        extract_archive(archive, tmp_path / "out", limits)


def test_zip_member_larger_than_its_declared_size_is_one_line(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pkg/a.txt", b"A" * 100_000)
    data = bytearray(buffer.getvalue())
    data[22:26] = struct.pack("<I", 10)  # the local header says 10 bytes
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 10)  # and so does the central directory
    archive = tmp_path / "liar.zip"
    archive.write_bytes(bytes(data))
    with pytest.raises(CatalogError) as info:
        extract_archive(archive, tmp_path / "out")
    assert info.value.kind == "bad_archive" and "\n" not in str(info.value)
    written = [p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert all(size <= 10 for size in written)


def test_zip_file_where_a_folder_is_expected_is_skipped_not_a_crash(tmp_path):
    archive = tmp_path / "clash.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg", b"x")
        zf.writestr("pkg/a.py", b"y")
        zf.writestr("ok.py", b"z")
    skipped = extract_archive(archive, tmp_path / "out")
    assert skipped == ["pkg/a.py"]
    assert (tmp_path / "out" / "ok.py").read_bytes() == b"z"


def test_fifos_and_block_devices_in_a_tar_are_skipped(tmp_path):
    fifo = tarfile.TarInfo("pkg/fifo")
    fifo.type = tarfile.FIFOTYPE
    block = tarfile.TarInfo("pkg/disk")
    block.type = tarfile.BLKTYPE
    archive = tmp_path / "odd.tar"
    with tarfile.open(archive, "w") as tf:
        tf.addfile(fifo)
        tf.addfile(block)
        info, data = file_info("pkg/ok.py", b"1")
        tf.addfile(info, io.BytesIO(data))
    assert set(extract_archive(archive, tmp_path / "out")) == {"pkg/fifo", "pkg/disk"}
    assert [p.name for p in (tmp_path / "out").rglob("*") if not p.is_dir()] == ["ok.py"]


def test_time_budget_used_up_is_one_line(tmp_path):
    archive = tmp_path / "slow.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.py", "x")
    with pytest.raises(CatalogError, match=r"^slow.zip: unpacking took more than 0 s; refusing it$"):
        extract_archive(archive, tmp_path / "out", ArchiveLimits(seconds=0))
