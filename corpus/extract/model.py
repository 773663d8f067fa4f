"""Records passed out of the extraction layer: options in, one ``Extraction`` out per document."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = [
    "FLAGS",
    "Attachment",
    "Extraction",
    "ExtractOptions",
    "Fingerprint",
    "failed",
    "with_flag",
]

# Every quality flag an Extraction may carry (kept in one place so callers can rely on names).
FLAGS = (
    "needs_ocr",
    "bad_font_encoding",
    "short_text",
    "unsupported_format",
    "encrypted",
    "truncated",
    "timeout",
    "too_large",
    "crashed",
    "empty",
    "undecodable",
    "corrupt",
    "ocr",  # some or all of the text was read by OCR (method names the engine and version)
    "ocr_low_confidence",  # an OCR page scored below ocr_min_confidence
)


@dataclass(frozen=True)
class Attachment:
    """A link to a document file found in an HTML page.

    Attributes:
        url: absolute URL when the page URL was known, else the link as written.
        text: the link text (often the file name).
        kind: lower-case extension such as ``"pdf"``, ``"docx"``, ``"zip"``.
    """

    url: str
    text: str
    kind: str


@dataclass(frozen=True)
class Fingerprint:
    """What the store needs to find duplicates of a text, computed beside the extraction.

    Attributes:
        text_sha256: SHA-256 of the normalised text (exact duplicates).
        near_keys: MinHash LSH band keys (near-duplicate candidates).
        checksum: CRC-32 of the text it was made from; the store recomputes on a mismatch.
    """

    text_sha256: str
    near_keys: tuple[int, ...]
    checksum: int


@dataclass(frozen=True)
class Extraction:
    """Clean text and quality information for one document.

    ``text`` is ``""`` whenever nothing usable came out; ``flags`` then says why and
    ``warnings`` says what failed and what the user can do.
    """

    text: str
    title: str | None = None
    method: str = ""
    flags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    encoding: str | None = None
    pages: int | None = None
    # Derived from ``text`` by extraction workers (policylens.corpus.dedupe.fingerprint), for
    # the store; not part of what was extracted, so equality and repr leave it out.
    fingerprint: Fingerprint | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """True when some text was extracted."""
        return bool(self.text)


@dataclass(frozen=True)
class ExtractOptions:
    """Limits and engine choice for one extraction.

    Attributes:
        timeout_s: wall-clock limit per document (only enforced when ``isolate``).
        max_memory_mb: address-space cap of the worker process (only when ``isolate``).
        max_pages: PDF pages beyond this are ignored (flag ``truncated``).
        max_bytes: larger inputs are refused (flag ``too_large``).
        isolate: run each extraction in a worker process so a bad file cannot hurt the caller.
        pdf_engine: ``"auto"`` (pypdfium2 in pdfplumber's line order; pdfplumber when PDFium fails or its glyphs are broken), ``"pdfplumber"``
            or ``"pypdfium2"``.
        ocr: ``"auto"`` reads pages without usable text (no text layer, mostly (cid:NNN) or
            U+FFFD) and image files by OCR; ``"always"`` reads every page by OCR; ``"never"``
            flags such documents ``needs_ocr`` with empty text.
        ocr_timeout_s: wall-clock limit of the OCR part of one document (replaces
            ``timeout_s`` once OCR starts; only enforced when ``isolate``).
        ocr_max_memory_mb: address-space cap of the worker while it runs OCR.
        ocr_max_pages: pages after this many needing OCR are left unread (flag ``truncated``).
        ocr_dpi: resolution pages are rendered at for OCR.
        ocr_max_pixels: larger pages are rendered at a lower resolution (down to 100 dpi),
            larger images are refused (flag ``too_large``).
        ocr_min_confidence: pages scoring below this get the flag ``ocr_low_confidence``.
        test_delay_s: testing hook, the worker sleeps this long before extracting.
    """

    timeout_s: float = 120.0
    max_memory_mb: int = 2048
    max_pages: int = 2000
    max_bytes: int = 200 * 1024 * 1024
    isolate: bool = True
    pdf_engine: str = "auto"
    ocr: str = "auto"
    ocr_timeout_s: float = 1800.0
    ocr_max_memory_mb: int = 3072
    ocr_max_pages: int = 200
    ocr_dpi: int = 200
    ocr_max_pixels: int = 40_000_000
    ocr_min_confidence: float = 0.85
    test_delay_s: float = 0.0

    def __post_init__(self) -> None:
        from policylens.errors import UsageError

        if self.pdf_engine not in ("auto", "pdfplumber", "pypdfium2"):
            raise UsageError(
                f"unknown pdf_engine {self.pdf_engine!r}",
                where="ExtractOptions.pdf_engine",
                hint="use auto, pdfplumber or pypdfium2",
            )
        if self.ocr not in ("auto", "always", "never"):
            raise UsageError(
                f"unknown ocr mode {self.ocr!r}",
                where="ExtractOptions.ocr",
                hint="use auto, always or never",
            )
        for name in ("timeout_s", "max_memory_mb", "max_pages", "max_bytes", "ocr_timeout_s",
                     "ocr_max_memory_mb", "ocr_max_pages", "ocr_dpi", "ocr_max_pixels"):
            if getattr(self, name) <= 0:
                raise UsageError(
                    f"{name} must be positive, got {getattr(self, name)!r}",
                    where=f"ExtractOptions.{name}",
                    hint="give a positive number",
                )


def failed(flag: str, warning: str, *, method: str = "", **fields) -> Extraction:
    """Build an Extraction with no text, one flag and one warning."""
    return Extraction(text="", method=method, flags=(flag,), warnings=(warning,), **fields)


def with_flag(ex: Extraction, flag: str, warning: str | None = None) -> Extraction:
    """Return a copy of ``ex`` with one more flag (and warning), without duplicates."""
    flags = ex.flags if flag in ex.flags else ex.flags + (flag,)
    warnings = ex.warnings + ((warning,) if warning else ())
    return replace(ex, flags=flags, warnings=warnings)
