"""Where agentvlm keeps files, and how: everything it writes for a user is private to that user.

Sessions, traces, caches and history hold people's questions and images, so on a
shared machine folders are created 0700 and files 0600 whatever the umask.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from agentvlm.errors import StorageError

__all__ = ["cache_home", "data_home", "private_dir", "write_private"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def data_home() -> Path:
    """Where agentvlm keeps user data: ``$AGENTVLM_HOME``, else ``$XDG_DATA_HOME/agentvlm``."""
    if home := os.environ.get("AGENTVLM_HOME"):
        return Path(home)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "agentvlm"


def cache_home() -> Path:
    """Where caches live: ``$XDG_CACHE_HOME/agentvlm``, else ``~/.cache/agentvlm``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "agentvlm"


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents readable by the owner only (0700).

    Raises:
        StorageError: the folder cannot be created (read-only disk, no permission, a file in the way).

    Example:
        >>> oct(private_dir(Path(tempfile.mkdtemp()) / "a" / "b").stat().st_mode & 0o777)
        '0o700'
    """
    missing: list[Path] = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    try:
        for folder in reversed(missing):
            try:
                folder.mkdir(mode=DIR_MODE)
            except FileExistsError:
                continue
            os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask
        if not path.is_dir():
            raise NotADirectoryError(f"{path} is not a folder")
    except OSError as exc:
        raise StorageError(_why(path, exc)) from None
    return path


def write_private(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename), mode 0600."""
    private_dir(path.parent)
    raw = data.encode() if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StorageError(_why(path, exc)) from None
    return path


def _why(path: Path, exc: OSError) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        what = "the disk is full"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        what = "it is read-only or not yours"
    else:
        what = exc.strerror or str(exc)
    return (
        f"cannot write {path}: {what}; free some space, fix its permissions, "
        "or point AGENTVLM_HOME (data) / XDG_CACHE_HOME (caches) at a writable folder"
    )
