"""A backup, its secret key and the audit anchor are put in place durably (tracker.backup.durable): the new file's
data is synced before the rename, the folder after it, so a power cut leaves the old file or the whole new one."""

import errno
import os

import pytest

from tracker.backup import durable


def test_the_data_is_synced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    steps: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        steps.append("fsync folder" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync file")
        real_fsync(fd)

    def replace(src, dst) -> None:
        steps.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(durable.os, "fsync", fsync)
    monkeypatch.setattr(durable.os, "replace", replace)
    (tmp_path / "backup.tar.gz").write_bytes(b"old")
    temp = tmp_path / ".backup-new"
    temp.write_bytes(b"new archive")

    durable.replace(temp, tmp_path / "backup.tar.gz")

    assert steps == ["fsync file", "rename", "fsync folder"], steps
    assert (tmp_path / "backup.tar.gz").read_bytes() == b"new archive"
    assert not temp.exists()


def test_a_folder_its_file_system_cannot_sync_is_no_failure(tmp_path, monkeypatch):
    """An SMB share or a FUSE mount answers EINVAL to a folder's fsync: the file was synced and renamed, whole."""
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            raise OSError(errno.EINVAL, "Invalid argument")
        real_fsync(fd)

    monkeypatch.setattr(durable.os, "fsync", fsync)
    temp = tmp_path / ".backup-new"
    temp.write_bytes(b"new archive")
    durable.replace(temp, tmp_path / "backup.tar.gz")
    assert (tmp_path / "backup.tar.gz").read_bytes() == b"new archive"


def test_a_file_that_cannot_be_synced_is_not_put_in_place(tmp_path, monkeypatch):
    """A failing disk answers EIO: the backup is not renamed over the last good one."""

    def fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(durable.os, "fsync", fsync)
    (tmp_path / "backup.tar.gz").write_bytes(b"old")
    temp = tmp_path / ".backup-new"
    temp.write_bytes(b"new archive")
    with pytest.raises(OSError):
        durable.replace(temp, tmp_path / "backup.tar.gz")
    assert (tmp_path / "backup.tar.gz").read_bytes() == b"old"
