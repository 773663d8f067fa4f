"""The one path expander: files, folders and glob patterns to document files.

``policylens ingest`` and ``policylens score`` (and their library functions) take the same
arguments and find the same files: folders are walked recursively for the document suffixes,
hidden files and folders (names starting with ``.``) are left out, named files and glob matches
are taken whatever their suffix.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DOCUMENT_SUFFIXES", "PathProblem", "expand_paths"]

# Files picked up when walking a folder.
DOCUMENT_SUFFIXES = frozenset(
    {".pdf", ".html", ".htm", ".shtml", ".xhtml", ".docx", ".doc", ".wps", ".txt", ".md",
     ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}  # images: read by OCR
)


@dataclass(frozen=True)
class PathProblem:
    """An argument that named no usable file, and what to do about it."""

    path: str
    message: str


def _walk(folder: Path) -> tuple[list[Path], int]:
    """Document files below ``folder`` (sorted, no hidden parts) and how many others there were."""
    files: list[Path] = []
    skipped = 0
    for found in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
        if any(part.startswith(".") for part in found.relative_to(folder).parts):
            continue
        if found.suffix.lower() in DOCUMENT_SUFFIXES:
            files.append(found)
        else:
            skipped += 1
    return files, skipped


def expand_paths(
    paths: Iterable[str | os.PathLike[str]],
) -> tuple[list[Path], list[PathProblem], int]:
    """Turn files, folders (recursive) and glob patterns into a de-duplicated file list.

    A dangling symbolic link is kept, so the caller reports it as unreadable rather than
    silently leaving it out.

    Args:
        paths: files, folders or glob patterns (``**`` recurses).

    Returns:
        ``(files, problems, skipped)``: the files in argument order (sorted within a folder or a
        pattern, each file once); one problem per argument that names nothing (missing path,
        pattern matching no file, folder without documents); how many files in walked folders
        were left out for their suffix.
    """
    files: list[Path] = []
    problems: list[PathProblem] = []
    skipped = 0
    for given in paths:
        text = os.fspath(given)
        path = Path(text)
        if path.is_dir():
            found, others = _walk(path)
            skipped += others
            if not found:
                problems.append(PathProblem(text, (
                    f"folder holds no documents ({', '.join(sorted(DOCUMENT_SUFFIXES))}); "
                    "point at a folder with documents")))
            files.extend(found)
        elif path.exists() or path.is_symlink():
            files.append(path)
        elif glob.has_magic(text):
            matched = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not matched:
                problems.append(PathProblem(text, "pattern matches no file; check the pattern"))
            files.extend(matched)
        else:
            problems.append(PathProblem(text, "no such file or folder; check the path"))
    unique: dict[Path, Path] = {}
    for f in files:
        unique.setdefault(f.resolve(), f)
    return list(unique.values()), problems, skipped
