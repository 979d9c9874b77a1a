"""A backup, its secret key and the audit anchor are put in place durably (tracker.backup.durable): the new file's
data is synced before the rename, the folder after it, so a power cut leaves the old file or the whole new one."""

import os

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
