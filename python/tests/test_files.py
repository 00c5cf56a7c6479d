"""Files in the guest with os's semantics. The loopback guest is this
machine, so every result is checked against the os module directly."""

import hashlib
import os
import stat
import subprocess

import pytest

import tether


def test_upload_download_round_trip(guest, tmp_path):
    data = os.urandom(3 << 20) + b"tail"
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    remote = tmp_path / "guest" / "copy.bin"
    r = guest.upload(src, str(remote), make_parents=True, mode=0o600, checksum="sha256")
    assert r.bytes == len(data) and r.checksum == "sha256"
    assert r.digest == hashlib.sha256(data).hexdigest()
    assert remote.read_bytes() == data
    assert stat.S_IMODE(os.stat(remote).st_mode) == 0o600

    back = tmp_path / "back.bin"
    r = guest.download(str(remote), back, checksum="xxh64")
    assert r.checksum == "xxh64" and r.bytes == len(data)
    assert back.read_bytes() == data


def test_transfers_are_checked_with_xxh64_unless_asked(guest, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(1 << 20))
    # xxhsum and xxh128sum (package xxhash) are the reference, independent of tether.
    def reference(*tool):
        return subprocess.run([*tool, str(src)], check=True, capture_output=True, text=True).stdout.split()[0]
    r = guest.upload(src, str(tmp_path / "copy.bin"))
    assert (r.checksum, r.digest) == ("xxh64", reference("xxhsum", "-H1"))
    r = guest.download(str(tmp_path / "copy.bin"), tmp_path / "back.bin")
    assert (r.checksum, r.digest) == ("xxh64", reference("xxhsum", "-H1"))
    r = guest.download(str(tmp_path / "copy.bin"), tmp_path / "back3.bin", checksum="xxh3")
    assert (r.checksum, r.digest) == ("xxh3", reference("xxh128sum"))


def test_upload_refuses_to_overwrite_unless_asked(guest, tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"new")
    dst = tmp_path / "dst"
    dst.write_bytes(b"old")
    with pytest.raises(FileExistsError) as e:
        guest.upload(src, str(dst))
    assert isinstance(e.value, tether.AlreadyExists)
    guest.upload(src, str(dst), overwrite=True)
    assert dst.read_bytes() == b"new"


def test_upload_without_make_parents(guest, tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"x")
    with pytest.raises(FileNotFoundError):
        guest.upload(src, str(tmp_path / "missing" / "dst"))


def test_unknown_checksum(guest, tmp_path):
    with pytest.raises(tether.InvalidArgument):
        guest.download("/etc/hostname", tmp_path / "x", checksum="md5")


def test_download_resumes_at_offset(guest, tmp_path):
    remote = tmp_path / "remote"
    remote.write_bytes(b"0123456789")
    local = tmp_path / "local"
    local.write_bytes(b"0123")
    guest.download(str(remote), local, offset=4)
    assert local.read_bytes() == b"0123456789"


def test_recursive_transfers(guest, tmp_path):
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a").write_bytes(b"a")
    (tree / "sub" / "b").write_bytes(b"bb")
    r = guest.upload(tree, str(tmp_path / "up"), recursive=True)
    assert (r.files, r.bytes) == (2, 3)
    assert (tmp_path / "up" / "sub" / "b").read_bytes() == b"bb"
    r = guest.download(str(tmp_path / "up"), tmp_path / "down", recursive=True)
    assert r.files == 2 and (tmp_path / "down" / "a").read_bytes() == b"a"


def test_read_and_write_bytes(guest, tmp_path):
    path = tmp_path / "dir" / "f"
    assert guest.write_bytes(str(path), b"\x00data\xff", make_parents=True) == 6
    assert path.read_bytes() == b"\x00data\xff"
    assert guest.read_bytes(str(path)) == b"\x00data\xff"
    guest.write_bytes(str(path), b"replaced")
    assert guest.read_bytes(str(path)) == b"replaced"
    with pytest.raises(FileNotFoundError):
        guest.read_bytes(str(tmp_path / "missing"))


def test_stat_is_an_os_stat_result(guest, tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"12345")
    os.chmod(f, 0o640)
    link = tmp_path / "link"
    link.symlink_to(f)
    st, local = guest.stat(str(f)), os.stat(f)
    assert isinstance(st, os.stat_result)
    for field in ("st_mode", "st_size", "st_uid", "st_gid", "st_mtime_ns"):
        assert getattr(st, field) == getattr(local, field), field
    assert stat.S_ISREG(st.st_mode) and st.st_mtime == pytest.approx(local.st_mtime)
    assert guest.stat(str(link)).st_mode == local.st_mode  # follows, as os.stat
    assert stat.S_ISLNK(guest.lstat(str(link)).st_mode)
    assert stat.S_ISDIR(guest.stat(str(tmp_path)).st_mode)
    assert guest.exists(str(f)) and not guest.exists(str(tmp_path / "missing"))


def test_listdir_as_os_listdir(guest, tmp_path):
    for name in ("b", "a", "\u00e9t\u00e9", ".hidden"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / os.fsdecode(b"raw\xff")).write_bytes(b"")
    assert guest.listdir(str(tmp_path)) == sorted(os.listdir(tmp_path), key=os.fsencode)
    assert sorted(guest.listdir(os.fsencode(str(tmp_path)))) == sorted(os.listdir(os.fsencode(str(tmp_path))))
    with pytest.raises(FileNotFoundError):
        guest.listdir(str(tmp_path / "missing"))


def test_makedirs_as_os_makedirs(guest, tmp_path):
    deep = tmp_path / "a" / "b" / "c"
    guest.makedirs(str(deep))
    assert deep.is_dir()
    with pytest.raises(FileExistsError):
        os.makedirs(deep)
    with pytest.raises(FileExistsError):
        guest.makedirs(str(deep))
    guest.makedirs(str(deep), exist_ok=True)
    guest.makedirs(str(tmp_path / "x" / "y"), mode=0o700, exist_ok=True)
    assert stat.S_IMODE(os.stat(tmp_path / "x" / "y").st_mode) == 0o700


def test_remove_rename_rmtree(guest, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"A")
    b.write_bytes(b"B")
    guest.rename(str(a), str(b))  # replaces, as os.rename does on POSIX
    assert not a.exists() and b.read_bytes() == b"A"
    a.write_bytes(b"again")
    with pytest.raises(FileExistsError):
        guest.rename(str(a), str(b), overwrite=False)
    guest.remove(str(a))
    assert not a.exists()
    with pytest.raises(FileNotFoundError):
        guest.remove(str(a))
    (tmp_path / "t" / "u").mkdir(parents=True)
    (tmp_path / "t" / "u" / "f").write_bytes(b"")
    guest.rmtree(str(tmp_path / "t"))
    assert not (tmp_path / "t").exists()
