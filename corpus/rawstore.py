"""Content-addressed raw bytes: ``<root>/raw/ab/<sha256>.bin``, written atomically.

The bytes are written to a temporary file in the target folder, flushed to disk and renamed
into place, so a reader never sees a half-written file and a crash leaves at most a stray
``.tmp-*`` file (never a damaged ``.bin``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from policylens.errors import CorpusError

__all__ = ["raw_relative_path", "write_raw"]


def raw_relative_path(raw_sha256: str) -> str:
    """The path of the bytes with this SHA-256, relative to the data directory."""
    return (Path("raw") / raw_sha256[:2] / f"{raw_sha256}.bin").as_posix()


def write_raw(root: Path, raw: bytes, raw_sha256: str) -> str:
    """Store ``raw`` under ``root`` (the data directory) unless the same bytes are there.

    Args:
        root: the data directory (beside ``corpus.sqlite``).
        raw: the bytes.
        raw_sha256: their SHA-256 (hex), which names the file.

    Returns:
        The path relative to ``root`` (``raw/ab/<sha>.bin``).

    Raises:
        CorpusError: the file cannot be written (disk full, permissions).
    """
    relative = raw_relative_path(raw_sha256)
    target = root / relative
    if target.exists() and target.stat().st_size == len(raw):
        return relative
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".bin")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CorpusError(
            f"could not write raw bytes: {exc}", where=str(target), hint="check disk space"
        ) from exc
    return relative
