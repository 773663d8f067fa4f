"""Word documents: .docx with python-docx (zip-bomb guarded); .doc/.wps via LibreOffice."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from .cleanup import normalize_spacing
from .model import Extraction, failed

__all__ = ["extract_docx", "extract_legacy_word", "check_zip_bomb", "docx_blocks"]

log = logging.getLogger(__name__)

MAX_UNCOMPRESSED = 512 * 1024 * 1024  # no real policy DOCX comes near this
MAX_RATIO = 200  # text XML compresses ~10x; a thousandfold ratio is a bomb


def check_zip_bomb(data: bytes) -> str | None:
    """Return a reason when the zip container would inflate dangerously, else None.

    Only the central directory is read (declared sizes); nothing is decompressed.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return f"damaged zip container ({exc})"
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_UNCOMPRESSED:
        return f"declares {total // (1024 * 1024)} MB uncompressed (limit {MAX_UNCOMPRESSED // (1024 * 1024)} MB)"
    if total > 10 * 1024 * 1024 and total / packed > MAX_RATIO:
        return f"compression ratio {total / packed:.0f}:1 looks like a zip bomb"
    return None


def docx_blocks(document) -> list[str]:
    """Paragraph and table texts of a python-docx Document, in document order.

    Each table row becomes one line with cells separated by a tab (merged cells once).
    """
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            blocks.append(item.text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = cell.text.strip()
                    if not cells or text != cells[-1]:  # merged cells repeat their text
                        cells.append(text)
                blocks.append("\t".join(c for c in cells if c))
    return blocks


def extract_docx(data: bytes) -> Extraction:
    """Extract paragraphs and tables of a DOCX document.

    Returns:
        An Extraction with method ``docx``; flag ``too_large`` for a zip bomb and
        ``corrupt`` for a damaged file.
    """
    reason = check_zip_bomb(data)
    if reason:
        flag = "corrupt" if reason.startswith("damaged") else "too_large"
        return failed(flag, f"DOCX refused: {reason}; open it in Word/WPS and re-save", method="docx")
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors...
        return failed(
            "corrupt",
            f"DOCX could not be read ({type(exc).__name__}: {exc}); open it in Word/WPS and re-save",
            method="docx",
        )
    text = normalize_spacing("\n".join(docx_blocks(document)))
    title = (document.core_properties.title or "").strip() or None
    if title is None:
        title = next((ln for ln in text.split("\n") if ln.strip()), None)
    flags, warnings = (), ()
    if not text:
        flags, warnings = ("empty",), ("DOCX has no text (maybe only images); check the file",)
    return Extraction(text=text, title=title, method="docx", flags=flags, warnings=warnings)


def extract_legacy_word(data: bytes, kind: str, timeout_s: float = 120.0) -> Extraction:
    """Convert a .doc/.wps file to DOCX with LibreOffice and extract that.

    Returns:
        An Extraction with method ``libreoffice+docx``, or flag ``unsupported_format`` when
        LibreOffice is not installed or the conversion fails.
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return failed(
            "unsupported_format",
            f".{kind} needs LibreOffice to convert; install it (apt-get install libreoffice-writer) "
            "and extract again",
            method=kind,
        )
    with tempfile.TemporaryDirectory(prefix="policylens-lo-") as tmp:
        src = Path(tmp) / f"input.{kind}"
        src.write_bytes(data)
        cmd = [
            soffice,
            f"-env:UserInstallation=file://{tmp}/profile",  # private profile: parallel-safe
            "--headless",
            "--convert-to",
            "docx",
            "--outdir",
            tmp,
            str(src),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return failed("timeout", f"LibreOffice took over {timeout_s:.0f} s to convert the .{kind}", method=kind)
        out = Path(tmp) / "input.docx"
        if not out.exists():
            return failed(
                "unsupported_format",
                f"LibreOffice could not convert this .{kind}; open and re-save it as DOCX",
                method=kind,
            )
        result = extract_docx(out.read_bytes())
    from dataclasses import replace

    return replace(result, method="libreoffice+docx")
