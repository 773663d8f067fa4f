"""Guess a document's kind: magic bytes first, then file extension, then content type.

The one type sniffer: the crawler's ``sniff_type`` is :func:`container_of` of
:func:`detect_kind`. Hand-written on purpose: python-magic needs the system libmagic, and
neither it nor ``filetype`` recognises OFD or tells a WPS/ET file from a DOC/XLS; the checks
are a dozen byte prefixes and a zip member listing.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath
from urllib.parse import urlsplit

__all__ = ["detect_kind", "attachment_kind", "container_of", "ARCHIVE_KINDS", "ATTACHMENT_KINDS"]

ARCHIVE_KINDS = frozenset({"zip", "rar", "7z", "gz", "tar"})
# The one list of attachment extensions: links the crawler downloads and HTML extraction
# reports as a page's attachments.
ATTACHMENT_KINDS = ("pdf", "doc", "docx", "wps", "xls", "xlsx", "et", "ofd", "zip", "rar", "7z")
# The container format behind a kind: Office 97/WPS files are OLE, OOXML and OFD are zips.
_CONTAINERS = {
    "doc": "ole", "wps": "ole", "xls": "ole", "et": "ole", "ppt": "ole", "dps": "ole",
    "docx": "zip", "xlsx": "zip", "pptx": "zip", "ofd": "zip",
}

_IMAGE_EXTS = frozenset({"png", "jpg", "gif", "bmp", "tiff", "webp"})
_EXT_ALIASES = {"jpeg": "jpg", "tif": "tiff", "htm": "html", "shtml": "html", "xhtml": "html", "jhtml": "html", "markdown": "md"}
_CONTENT_TYPES = {
    "application/pdf": "pdf",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "txt",
    "text/markdown": "md",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/x-rar-compressed": "rar",
    "application/vnd.rar": "rar",
    "application/x-7z-compressed": "7z",
    "application/ofd": "ofd",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # MS Office 97 / WPS container
# Image files (scanned pages, bulletins published as pictures): read by OCR.
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


def attachment_kind(url: str) -> str | None:
    """The extension (``pdf``, ``docx`` ...) when ``url`` points at a downloadable document.

    Args:
        url: an absolute or relative URL, or a file name (query and fragment are ignored).

    Returns:
        One of ``ATTACHMENT_KINDS``, or None.
    """
    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    ext = name.rpartition(".")[2] if "." in name else ""
    return ext if ext in ATTACHMENT_KINDS else None


def container_of(kind: str) -> str:
    """The container format of a kind from :func:`detect_kind`.

    Returns:
        ``pdf``, ``ole`` (doc/xls/wps...), ``zip`` (docx/xlsx/ofd and plain zips), ``rar``,
        ``7z``, ``html`` or ``unknown``.
    """
    if kind in ("pdf", "zip", "rar", "7z", "html"):
        return kind
    return _CONTAINERS.get(kind, "unknown")


def _extension(filename: str | None) -> str:
    if not filename:
        return ""
    # URLs may carry a query string; only the path's suffix matters.
    name = filename.split("?", 1)[0].split("#", 1)[0]
    ext = PurePosixPath(name.replace("\\", "/")).suffix.lower().lstrip(".")
    return _EXT_ALIASES.get(ext, ext)


def _zip_kind(data: bytes) -> str:
    """Tell an Office/OFD zip from a plain archive by its member names."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        # A damaged container: its local headers still name the members, so a damaged DOCX
        # goes to the DOCX extractor (which fails it as ``corrupt``), not to "archive".
        return "docx" if b"word/" in data[:65536] or b"word/document.xml" in data else "zip"
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    if any(n.startswith("ppt/") for n in names):
        return "pptx"
    if "OFD.xml" in names:
        return "ofd"
    return "zip"


def _looks_like_html(head: bytes) -> bool:
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return low.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<!--")) or (
        b"<html" in low[:2048] or b"<body" in low[:4096]
    )


def _looks_binary(head: bytes) -> bool:
    """True for bytes no text file would contain (many control characters)."""
    if not head:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False
    controls = len(head) - len(head.translate(None, _CONTROLS))  # in C, not a loop per byte
    return controls / len(head) > 0.05


# Control bytes no text holds (tab, newline, form feed, carriage return and escape it may).
_CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def detect_kind(data: bytes, filename: str | None = None, content_type: str | None = None) -> str:
    """Return the document kind of ``data``.

    Magic bytes win over the file name, which wins over the HTTP content type.

    Args:
        data: the document bytes (only the start is inspected, except for zip containers).
        filename: a file name or URL, used when the bytes are not conclusive.
        content_type: an HTTP ``Content-Type`` value (parameters allowed).

    Returns:
        ``"pdf"``, ``"html"``, ``"docx"``, ``"doc"``, ``"wps"``, ``"xls"``, ``"xlsx"``,
        ``"txt"``, ``"md"``, ``"zip"``, ``"rar"``, ``"7z"``, ``"ofd"``, ``"png"``, ``"jpg"``,
        ``"gif"``, ``"bmp"``, ``"tiff"``, ``"webp"``, ``"empty"``,
        ``"binary"`` (unknown non-text bytes) or another lower-case extension.
    """
    ext = _extension(filename)
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if not data:
        return "empty"
    head = data[:8192]
    if head.lstrip().startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(b"\x1f\x8b"):
        return "gz"
    for magic, image_kind in _IMAGE_MAGIC:
        if head.startswith(magic) and (image_kind != "bmp" or _looks_binary(head)):
            return image_kind
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(_OLE):
        # The OLE container is shared by .doc, .xls, .ppt and WPS files; the name decides.
        return ext if ext in ("doc", "wps", "xls", "et", "ppt", "dps") else "doc"
    if b"%PDF-" in head[:1024]:
        return "pdf"  # readers accept junk before the header (e.g. an HTTP preamble)
    if _looks_binary(head):
        # A damaged image keeps its kind, so the OCR path reports it as a corrupt image.
        return ext if ext in _IMAGE_EXTS else "binary"
    if _looks_like_html(head) or ext == "html" or ctype in ("text/html", "application/xhtml+xml"):
        return "html"
    if ext in ("txt", "md", "csv"):
        return ext
    if ctype in _CONTENT_TYPES and _CONTENT_TYPES[ctype] in ("txt", "md"):
        return _CONTENT_TYPES[ctype]
    return "txt"
