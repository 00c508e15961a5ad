"""File-system helpers for durable, atomic writes (checkpoints, data files)."""

from __future__ import annotations

import os

__all__ = ["fsync_path"]


def fsync_path(path: str | os.PathLike[str], directory: bool = False) -> None:
    """Flush a file (or, with ``directory=True``, a directory entry) to disk.

    Best effort: some filesystems, and Windows for directories, refuse ``fsync``; the write
    is then as durable as the platform allows.
    """
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
