"""Shared helpers for printing command results (rich tables, JSON, CSV)."""

from __future__ import annotations

import json
import re
import sys
from enum import Enum

__all__ = ["OcrMode", "OutputFormat", "print_json", "console", "err_console",
           "terminal_safe", "MAX_FILE_HELP", "max_file_bytes"]

MAX_FILE_HELP = ("Size cap per document in MB (default 200); larger files fail with "
                 "too_large. Decimals work: 0.5 is 512 KB.")


def max_file_bytes(megabytes: float | None) -> int | None:
    """``--max-file-mb`` in bytes (``None``: the default cap).

    Raises:
        UsageError: not a positive number.
    """
    if megabytes is None:
        return None
    from policylens.errors import UsageError

    size = int(megabytes * 1024 * 1024)
    if size < 1:
        raise UsageError(f"--max-file-mb must be a positive number of MB, got {megabytes:g}",
                         hint="e.g. --max-file-mb 500 for files up to 500 MB")
    return size


class OcrMode(str, Enum):
    """``--ocr``: when scanned pages and images are read by OCR."""

    auto = "auto"
    always = "always"
    never = "never"


# C0/C1 control characters and DEL (ESC starts terminal escape sequences); tab and newline stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """``text`` without control characters, so stored titles cannot drive the terminal."""
    return _CONTROL.sub("", text)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def console():
    """stdout console; when piped, 140 columns rather than rich's default 80."""
    from rich.console import Console

    probe = Console()
    return Console(width=None if probe.is_terminal else 140)


def err_console():
    from rich.console import Console

    return Console(stderr=True)


def print_json(data) -> None:
    """Write ``data`` as UTF-8 JSON (Chinese kept readable) to stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()
