"""Files put in place so that a crash or a power cut leaves the old file or the whole new one, never an empty or
half-written one under the name: the data reaches the disk before the rename, the rename before we go on."""

import errno
import os
from pathlib import Path


def replace(temp: Path | str, path: Path) -> None:
    """Move the finished file temp to path, durably (both in the same folder)."""
    with open(temp, "rb") as written:
        os.fsync(written.fileno())
    os.replace(temp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    except OSError as exc:  # some file systems (SMB shares, some FUSE mounts) sync no folder: the file is whole
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(folder)
