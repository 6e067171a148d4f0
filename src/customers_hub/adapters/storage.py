"""Document bytes in a local directory."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path
from typing import Final

__all__ = ["LocalDocumentStorage"]

# Keys are names the hub generates (``doc_…``), never client file names: one path component
# of safe characters, so no key can reach outside the root.
_KEY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def _check_key(key: str) -> str:
    if not _KEY.fullmatch(key) or ".." in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


class LocalDocumentStorage:
    """Stores each document as one file ``root/key``; writes are atomic (temp file + rename).

    Blocking file I/O runs in worker threads (``asyncio.to_thread``).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (replacing what was there)."""
        path = self._path(key)
        await asyncio.to_thread(self._write, path, data)

    def _write(self, path: Path, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # The temp file lives in the same directory so the rename is atomic: a reader sees the
        # old bytes or the new ones, never a partial file.
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> bytes | None:
        """The stored bytes, or None when nothing is stored under ``key``."""
        path = self._path(key)
        return await asyncio.to_thread(_read, path)

    async def delete(self, key: str) -> None:
        """Remove the bytes under ``key``; no error when absent."""
        path = self._path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
