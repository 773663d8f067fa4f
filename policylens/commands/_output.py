"""Shared helpers for printing command results (rich tables, JSON, CSV)."""

from __future__ import annotations

import json
import re
import sys
from enum import Enum

__all__ = ["OcrMode", "OutputFormat", "print_json", "console", "err_console",
           "terminal_safe"]


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
